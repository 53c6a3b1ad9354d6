package sandbox

// NewTestPool gives the external tests (package sandbox_test) a pool on a
// throwaway Postgres database; see testDatabase.
var NewTestPool = testDatabase
