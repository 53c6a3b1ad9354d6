package static

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"path"
	"sync"
)

// compressible are the text files worth sending gzipped; images other than SVG
// are compressed already.
var compressible = map[string]bool{".css": true, ".js": true, ".svg": true, ".txt": true}

// Gzipped returns the gzip encoding of the embedded file name, and false when
// the file is not text or does not get smaller. Every text file is compressed
// once, at the highest level, on first use; serving it then costs nothing.
func Gzipped(name string) ([]byte, bool) {
	b, ok := gzipped()[name]
	return b, ok
}

var gzipped = sync.OnceValue(func() map[string][]byte {
	m := map[string][]byte{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible[path.Ext(p)] {
			return err
		}
		raw, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
		_, _ = w.Write(raw)                                     // writes to a bytes.Buffer do not fail
		if err := w.Close(); err == nil && buf.Len() < len(raw) {
			m[p] = buf.Bytes()
		}
		return nil
	})
	return m
})
