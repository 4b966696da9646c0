// Package interop checks the control plane's API types against
// Kubernetes' own (k8s.io/api, k8s.io/apiextensions-apiserver): for every
// built-in type, an object of the Kubernetes type with every field set
// (by a seeded filler) is encoded, decoded into ours and encoded again,
// and the two JSON documents must be equal but for the fields listed as
// dropped on purpose; the reverse trip, from our type filled the same way
// through the Kubernetes type, must lose nothing.
//
// Its tests also run client-go v0.37 against the API server (package
// apiserver, started in-process on 127.0.0.1): a SharedInformer on pods,
// with the streaming initial list (WatchList, client-go's default) and
// with the classic list then watch, syncs and stays in step through a
// restart of the server on the same Raft data dir and address; the typed
// clientset, speaking JSON (rest.Config.ContentType), drives every verb of
// pods and the scale of a Deployment; retry.RetryOnConflict recovers from
// a conflict forced by a second writer; and the dynamic client drives a
// built-in resource and a CustomResourceDefinition's objects.
//
// The fields dropped on purpose are metadata.managedFields (the API
// server answers server-side apply with 415, so it keeps no field
// ownership) and metadata.selfLink (which Kubernetes stopped filling in
// 1.20), in every object and pod template. Everything else either is
// modelled or is kept as the JSON it came in, and both must survive the
// trip. The same seeded filler checks that the generated deep copies of
// every type are equal to the original and share no memory with it.
//
// It is a module of its own, the only one that requires k8s.io modules,
// so that the control plane's runtime links none. Run it with
// `make test-interop`.
package interop
