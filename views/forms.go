package views

import "strconv"

// FieldError is one problem of a form, tied to the id of its field.
type FieldError struct {
	Field   string
	Message string
}

// fieldErrors lists errs (field name → message) in the order of fields, the
// order of the form, so the summary reads like the form.
func fieldErrors(errs map[string]string, fields ...string) []FieldError {
	var out []FieldError
	for _, f := range fields {
		if msg, ok := errs[f]; ok {
			out = append(out, FieldError{Field: f, Message: msg})
		}
	}
	return out
}

// fixProblems is the error summary's lead: "Please fix 1 problem:", "Please
// fix 2 problems:".
func fixProblems(n int) string {
	return "Please fix " + strconv.Itoa(n) + " " + plural(n, "problem", "problems") + ":"
}
