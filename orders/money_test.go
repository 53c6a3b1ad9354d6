package orders

import "testing"

func TestMoneyString(t *testing.T) {
	tests := []struct {
		name string
		in   Money
		want string
	}{
		{"cents", Money{5, "USD"}, "$0.05"},
		{"whole", Money{100, "USD"}, "$1.00"},
		{"usual", Money{1999, "USD"}, "$19.99"},
		{"thousands", Money{123456, "EUR"}, "€1,234.56"},
		{"millions", Money{123456789, "GBP"}, "£1,234,567.89"},
		{"exact thousand", Money{100000, "CAD"}, "CA$1,000.00"},
		{"zero", Money{0, "USD"}, "$0.00"},
		{"negative", Money{-1999, "USD"}, "-$19.99"},
		{"unknown currency", Money{1999, "JPY"}, "JPY 19.99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMoneyDecimal(t *testing.T) {
	tests := []struct {
		in   Money
		want string
	}{
		{Money{5, "USD"}, "0.05"},
		{Money{1999, "USD"}, "19.99"},
		{Money{123456789, "EUR"}, "1234567.89"},
		{Money{-10, "USD"}, "-0.10"},
	}
	for _, tc := range tests {
		if got := tc.in.Decimal(); got != tc.want {
			t.Errorf("%+v.Decimal() = %q, want %q", tc.in, got, tc.want)
		}
	}
}
