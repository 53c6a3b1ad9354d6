package static

import "io/fs"

// Images returns the shipped images a product may show, as pages name them
// ("img/beans.svg"), in name order.
func Images() []string {
	names, _ := fs.Glob(files, "img/*") // the pattern is valid, so Glob cannot fail
	return names
}
