package main

import (
	"fmt"
	"sort"
)

// The files the generator writes, relative to examples/cluster.
func ExampleGenerate() {
	files, _ := Generate()
	var names []string
	for rel := range files {
		names = append(names, rel)
	}
	sort.Strings(names)
	fmt.Println(names[0], names[len(names)-1])
	// Output: api/admissionregistrationv1/zz_generated_deepcopy.go api/zz_generated_deepcopy.go
}
