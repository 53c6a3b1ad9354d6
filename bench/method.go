package main

// methodText closes docs/BENCHMARKS.md: how the figures are made.
const methodText = `## Method

TODO
`
