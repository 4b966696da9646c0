package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/governor-io/governor/store"
	"github.com/governor-io/governor/store/kv"
	"github.com/governor-io/governor/store/meta"
	"github.com/governor-io/governor/store/mvcc"
)

// Typed Store benchmarks: Create, Update and Get of a ~1.3 KB Pod-like
// object through store.Store on the in-memory MVCC engine, beside the same
// KV operations on pre-encoded bytes (impl=rawkv), so that the Store's own
// cost (codec, copies, checks) is the difference. The codec is measured on
// its own against k8s.io/apimachinery's JSON serializer for v1.Pod.
//
//	go test -run '^$' -bench 'BenchmarkStore' -count 6 -benchtime 20000x

var podResource = store.Resource[*pod]{
	Name: "pods", Kind: "Pod", APIVersion: "v1", Namespaced: true,
	Fields: map[string]func(*pod) string{"spec.nodeName": func(p *pod) string { return p.Spec.NodeName }},
}

// benchPod returns the benchmark pod as our type, without server fields.
func benchPod(b *testing.B, name string) *pod {
	data, err := json.Marshal(kubePod("default", name))
	if err != nil {
		b.Fatal(err)
	}
	p, err := podResource.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// podCodec is the one interface both codecs are driven through.
type podCodec struct {
	name   string
	encode func() (int, error)
	decode func() error
}

func podCodecs(b *testing.B) []podCodec {
	ours := benchPod(b, "web-7d4b9c8f6d-x2k9p")
	ours.UID = "c0a80a1e-5b7f-4e9b-8f3a-2d6c9e1b7a40"
	ours.CreationTimestamp = meta.NewTime(benchEpoch)
	oursData, err := podResource.Encode(ours)
	if err != nil {
		b.Fatal(err)
	}
	ser := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{})
	theirs := kubePod("default", "web-7d4b9c8f6d-x2k9p")
	theirs.UID = "c0a80a1e-5b7f-4e9b-8f3a-2d6c9e1b7a40"
	theirs.CreationTimestamp = metav1.NewTime(benchEpoch)
	var buf bytes.Buffer
	if err := ser.Encode(theirs, &buf); err != nil {
		b.Fatal(err)
	}
	theirsData := bytes.Clone(buf.Bytes())
	return []podCodec{
		{
			name: "governor",
			encode: func() (int, error) {
				d, err := podResource.Encode(ours)
				return len(d), err
			},
			decode: func() error { _, err := podResource.Decode(oursData); return err },
		},
		{
			name: "apimachinery",
			encode: func() (int, error) {
				buf.Reset()
				err := ser.Encode(theirs, &buf)
				return buf.Len(), err
			},
			decode: func() error { _, _, err := ser.Decode(theirsData, nil, &corev1.Pod{}); return err },
		},
	}
}

// BenchmarkStoreCodec encodes and decodes the pod with the Store's default
// codec and with apimachinery's JSON serializer.
func BenchmarkStoreCodec(b *testing.B) {
	for _, op := range []string{"encode", "decode"} {
		for _, c := range podCodecs(b) {
			b.Run(fmt.Sprintf("op=%s/impl=%s", op, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if op == "encode" {
						n, err := c.encode()
						if err != nil {
							b.Fatal(err)
						}
						b.SetBytes(int64(n))
					} else if err := c.decode(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

const storeBenchPods = 1000

// BenchmarkStore measures typed Store operations on the mvcc engine
// (impl=governor) and the bare KV operations they are built on, with
// pre-encoded values (impl=rawkv).
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	for _, op := range []string{"create", "update", "get"} {
		for _, impl := range []string{"governor", "rawkv"} {
			b.Run(fmt.Sprintf("op=%s/impl=%s", op, impl), func(b *testing.B) {
				engine := mvcc.New(mvcc.Options{})
				defer engine.Close()
				s := store.New(engine, podResource)
				tmpl := benchPod(b, "")
				// Pre-create the pods that update and get work on.
				pods := make([]*pod, storeBenchPods)
				for i := range pods {
					p := meta.DeepCopy(tmpl)
					p.Name = fmt.Sprintf("web-%05d", i)
					created, err := s.Create(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					pods[i] = created
				}
				raw := [2][]byte{}
				for j, image := range []string{"nginx:1.27", "nginx:1.28"} {
					p := meta.DeepCopy(pods[0])
					p.Spec.Containers[0].Image = image
					p.ResourceVersion = ""
					data, err := podResource.Encode(p)
					if err != nil {
						b.Fatal(err)
					}
					raw[j] = data
				}
				revs := make([]int64, storeBenchPods)
				for i := range revs {
					revs[i], _ = meta.ParseResourceVersion(pods[i].ResourceVersion)
				}
				images := [2]string{"nginx:1.28", "nginx:1.27"}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					var err error
					switch op + "/" + impl {
					case "create/governor":
						tmpl.Name = fmt.Sprintf("new-%08d", i)
						_, err = s.Create(ctx, tmpl)
					case "create/rawkv":
						key := s.Key("default", fmt.Sprintf("new-%08d", i))
						_, err = engine.Txn(ctx, kv.TxnRequest{
							Compare: []kv.Compare{{Key: key, Target: kv.CompareCreateRevision, Result: kv.Equal}},
							Success: []kv.Op{kv.OpPutKV(key, raw[0])},
						})
					case "update/governor":
						k := i % storeBenchPods
						p := pods[k]
						p.Spec.Containers[0].Image = images[(i/storeBenchPods)%2]
						pods[k], err = s.Update(ctx, p)
					case "update/rawkv":
						k := i % storeBenchPods
						key := s.Key("default", pods[k].Name)
						// A read, then a conditional write: what an
						// update does underneath.
						var resp *kv.TxnResponse
						if _, _, err = kv.Get(ctx, engine, key); err == nil {
							resp, err = engine.Txn(ctx, kv.TxnRequest{
								Compare: []kv.Compare{{Key: key, Target: kv.CompareModRevision, Result: kv.Equal, Int: revs[k]}},
								Success: []kv.Op{kv.OpPutKV(key, raw[(i/storeBenchPods+1)%2])},
							})
						}
						if err == nil {
							if !resp.Succeeded {
								b.Fatal("raw update lost its compare")
							}
							revs[k] = resp.Revision
						}
					case "get/governor":
						_, err = s.Get(ctx, "default", pods[i%storeBenchPods].Name)
					case "get/rawkv":
						_, _, err = kv.Get(ctx, engine, s.Key("default", pods[i%storeBenchPods].Name))
					}
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkStoreDeepCopy copies the pod with meta.DeepCopy (reflection,
// for types without generated code) and with v1.Pod's generated DeepCopy.
func BenchmarkStoreDeepCopy(b *testing.B) {
	ours := benchPod(b, "web-7d4b9c8f6d-x2k9p")
	theirs := kubePod("default", "web-7d4b9c8f6d-x2k9p")
	b.Run("impl=governor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = meta.DeepCopy(ours)
		}
	})
	b.Run("impl=apimachinery", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = theirs.DeepCopy()
		}
	})
}
