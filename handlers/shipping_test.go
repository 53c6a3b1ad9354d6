package handlers_test

import "net/url"

// withAddress adds a valid US shipping address and the Standard method to a
// checkout form that holds none, as the form the shop renders would send.
func withAddress(form url.Values) url.Values {
	for k, v := range map[string]string{"line1": "1 Main St", "city": "Austin", "region": "TX",
		"postal_code": "78701", "country": "US", "method": "standard"} {
		if _, ok := form[k]; !ok {
			form.Set(k, v)
		}
	}
	return form
}
