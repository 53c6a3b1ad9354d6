// Package static embeds the stylesheet, scripts and images that the pages use, so
// the binary serves them with no files on disk.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
)

//go:embed css img js
var files embed.FS

// FS is the embedded file tree, rooted at this folder ("css/app.css", ...).
var FS fs.FS = files

// Version is a short hash of every embedded file. Pages add it to asset URLs
// (?v=…), so assets can be cached for a year yet change on every release.
var Version = fingerprint()

// paths holds the versioned URL of every embedded file, built once: pages ask for
// an asset's URL several times per render, and a lookup costs no allocation.
var paths = versionedPaths()

// Path returns the URL path of an asset with the cache-busting version, for example
// Path("css/app.css") = "/static/css/app.css?v=1a2b3c4d".
func Path(name string) string {
	if p, ok := paths[name]; ok {
		return p
	}
	return versioned(name)
}

func versioned(name string) string {
	return path.Join("/static", name) + "?v=" + Version
}

func versionedPaths() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			m[p] = versioned(p)
		}
		return err
	})
	return m
}

func fingerprint() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:10]
}
