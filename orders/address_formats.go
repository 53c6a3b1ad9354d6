// The address formats of the countries the shop can ship to, in one table.
//
// Source: Google's address metadata, as used by libaddressinput and Chrome's
// autofill (https://chromium-i18n.appspot.com/ssl-address/data/<CC>): per
// country, the postal code pattern ("zip"), the fields it requires ("require":
// A street, C city, S region, Z postal code; countries without the key take the
// default "AC"), the region list ("sub_keys", "sub_names"), which fields are
// upper-cased ("upper") and the names of the region and postal code fields
// ("state_name_type", "zip_name_type"). No maintained Go library of this data is
// served by the module proxy here (github.com/bojanz/address is refused).

package orders

import "regexp"

// AddressFormat is how one country writes an address.
type AddressFormat struct {
	Country string // ISO 3166-1 alpha-2
	Name    string // the country's name in English
	// PostalLabel and RegionLabel name the fields ("ZIP code", "State"); a
	// country with no RegionLabel has no region field.
	PostalLabel string
	RegionLabel string
	// Postal is the whole postal code's pattern; PostalPrefix is the country
	// prefix some write before it ("FI-"), accepted and dropped.
	Postal         *regexp.Regexp
	PostalPrefix   string
	PostalRequired bool
	RegionRequired bool
	// Regions lists the regions a shopper chooses from, when the country has a
	// list; the code is what the order stores.
	Regions []Region
}

// Region is one entry of a country's region list.
type Region struct {
	Code string
	Name string
}

// postal compiles a metadata "zip" pattern to match a whole postal code.
func postal(pattern string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + pattern + `)$`) }

// names makes a region list whose codes are the names themselves, as the
// metadata's sub_keys are for Spain and Ireland.
func names(ns ...string) []Region {
	rs := make([]Region, len(ns))
	for i, n := range ns {
		rs[i] = Region{Code: n, Name: n}
	}
	return rs
}

// addressFormats is the table, by country code. The default countries of
// SHIP_TO_COUNTRIES are all of it: a country missing here cannot be shipped to.
var addressFormats = map[string]*AddressFormat{
	"US": {Country: "US", Name: "United States", PostalLabel: "ZIP code", RegionLabel: "State",
		Postal: postal(`\d{5}(?:[ \-]\d{4})?`), PostalRequired: true, RegionRequired: true, Regions: usStates},
	"CA": {Country: "CA", Name: "Canada", PostalLabel: "Postal code", RegionLabel: "Province",
		Postal: postal(`[ABCEGHJKLMNPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d`), PostalRequired: true, RegionRequired: true, Regions: caProvinces},
	"GB": {Country: "GB", Name: "United Kingdom", PostalLabel: "Postcode",
		Postal:         postal(`GIR ?0AA|(?:(?:AB|AL|B|BA|BB|BD|BF|BH|BL|BM|BN|BR|BS|BT|BX|CA|CB|CF|CH|CM|CO|CR|CT|CV|CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|E|EC|EH|EN|EX|FK|FY|G|GL|GY|GU|HA|HD|HG|HP|HS|HU|HX|IG|IM|IP|IV|JE|KA|KT|KW|KY|L|LA|LD|LE|LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|NN|NP|NR|NW|OL|OX|PA|PE|PH|PL|PO|PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|TW|UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE)(?:\d[\dA-Z]? ?\d[ABD-HJLN-UW-Z]{2}))|BFPO ?\d{1,4}`),
		PostalRequired: true},
	"AT": {Country: "AT", Name: "Austria", PostalLabel: "Postal code", Postal: postal(`\d{4}`), PostalRequired: true},
	"BE": {Country: "BE", Name: "Belgium", PostalLabel: "Postal code", Postal: postal(`\d{4}`), PostalRequired: true},
	"HR": {Country: "HR", Name: "Croatia", PostalLabel: "Postal code", Postal: postal(`\d{5}`), PostalPrefix: "HR-"},
	"CY": {Country: "CY", Name: "Cyprus", PostalLabel: "Postal code", Postal: postal(`\d{4}`)},
	"EE": {Country: "EE", Name: "Estonia", PostalLabel: "Postal code", Postal: postal(`\d{5}`), PostalRequired: true},
	"FI": {Country: "FI", Name: "Finland", PostalLabel: "Postal code", Postal: postal(`\d{5}`), PostalPrefix: "FI-", PostalRequired: true},
	"FR": {Country: "FR", Name: "France", PostalLabel: "Postal code", Postal: postal(`\d{2} ?\d{3}`), PostalRequired: true},
	"DE": {Country: "DE", Name: "Germany", PostalLabel: "Postal code", Postal: postal(`\d{5}`), PostalRequired: true},
	"GR": {Country: "GR", Name: "Greece", PostalLabel: "Postal code", Postal: postal(`\d{3} ?\d{2}`), PostalRequired: true},
	"IE": {Country: "IE", Name: "Ireland", PostalLabel: "Eircode", RegionLabel: "County",
		Postal: postal(`[\dA-Z]{3} ?[\dA-Z]{4}`), Regions: ieCounties},
	"IT": {Country: "IT", Name: "Italy", PostalLabel: "Postal code", RegionLabel: "Province",
		Postal: postal(`\d{5}`), PostalRequired: true, RegionRequired: true, Regions: itProvinces},
	"LV": {Country: "LV", Name: "Latvia", PostalLabel: "Postal code", Postal: postal(`LV-\d{4}`), PostalRequired: true},
	"LT": {Country: "LT", Name: "Lithuania", PostalLabel: "Postal code", Postal: postal(`\d{5}`), PostalPrefix: "LT-", PostalRequired: true},
	"LU": {Country: "LU", Name: "Luxembourg", PostalLabel: "Postal code", Postal: postal(`\d{4}`), PostalPrefix: "L-", PostalRequired: true},
	"MT": {Country: "MT", Name: "Malta", PostalLabel: "Postal code", Postal: postal(`[A-Z]{3} ?\d{2,4}`)},
	"NL": {Country: "NL", Name: "Netherlands", PostalLabel: "Postal code", Postal: postal(`\d{4} ?[A-Z]{2}`), PostalRequired: true},
	"PT": {Country: "PT", Name: "Portugal", PostalLabel: "Postal code", Postal: postal(`\d{4}-\d{3}`), PostalRequired: true},
	"SK": {Country: "SK", Name: "Slovakia", PostalLabel: "Postal code", Postal: postal(`\d{3} ?\d{2}`), PostalRequired: true},
	"SI": {Country: "SI", Name: "Slovenia", PostalLabel: "Postal code", Postal: postal(`\d{4}`), PostalPrefix: "SI-"},
	"ES": {Country: "ES", Name: "Spain", PostalLabel: "Postal code", RegionLabel: "Province",
		Postal: postal(`\d{5}`), PostalRequired: true, RegionRequired: true, Regions: esProvinces},
}

var usStates = []Region{
	{"AL", "Alabama"}, {"AK", "Alaska"}, {"AS", "American Samoa"}, {"AZ", "Arizona"}, {"AR", "Arkansas"},
	{"AA", "Armed Forces (AA)"}, {"AE", "Armed Forces (AE)"}, {"AP", "Armed Forces (AP)"},
	{"CA", "California"}, {"CO", "Colorado"}, {"CT", "Connecticut"}, {"DE", "Delaware"},
	{"DC", "District of Columbia"}, {"FL", "Florida"}, {"GA", "Georgia"}, {"GU", "Guam"}, {"HI", "Hawaii"},
	{"ID", "Idaho"}, {"IL", "Illinois"}, {"IN", "Indiana"}, {"IA", "Iowa"}, {"KS", "Kansas"},
	{"KY", "Kentucky"}, {"LA", "Louisiana"}, {"ME", "Maine"}, {"MH", "Marshall Islands"},
	{"MD", "Maryland"}, {"MA", "Massachusetts"}, {"MI", "Michigan"}, {"FM", "Micronesia"},
	{"MN", "Minnesota"}, {"MS", "Mississippi"}, {"MO", "Missouri"}, {"MT", "Montana"},
	{"NE", "Nebraska"}, {"NV", "Nevada"}, {"NH", "New Hampshire"}, {"NJ", "New Jersey"},
	{"NM", "New Mexico"}, {"NY", "New York"}, {"NC", "North Carolina"}, {"ND", "North Dakota"},
	{"MP", "Northern Mariana Islands"}, {"OH", "Ohio"}, {"OK", "Oklahoma"}, {"OR", "Oregon"},
	{"PW", "Palau"}, {"PA", "Pennsylvania"}, {"PR", "Puerto Rico"}, {"RI", "Rhode Island"},
	{"SC", "South Carolina"}, {"SD", "South Dakota"}, {"TN", "Tennessee"}, {"TX", "Texas"},
	{"UT", "Utah"}, {"VT", "Vermont"}, {"VI", "U.S. Virgin Islands"}, {"VA", "Virginia"},
	{"WA", "Washington"}, {"WV", "West Virginia"}, {"WI", "Wisconsin"}, {"WY", "Wyoming"},
}

var caProvinces = []Region{
	{"AB", "Alberta"}, {"BC", "British Columbia"}, {"MB", "Manitoba"}, {"NB", "New Brunswick"},
	{"NL", "Newfoundland and Labrador"}, {"NT", "Northwest Territories"}, {"NS", "Nova Scotia"},
	{"NU", "Nunavut"}, {"ON", "Ontario"}, {"PE", "Prince Edward Island"}, {"QC", "Quebec"},
	{"SK", "Saskatchewan"}, {"YT", "Yukon"},
}

var ieCounties = names("Co. Carlow", "Co. Cavan", "Co. Clare", "Co. Cork", "Co. Donegal", "Co. Dublin",
	"Co. Galway", "Co. Kerry", "Co. Kildare", "Co. Kilkenny", "Co. Laois", "Co. Leitrim", "Co. Limerick",
	"Co. Longford", "Co. Louth", "Co. Mayo", "Co. Meath", "Co. Monaghan", "Co. Offaly", "Co. Roscommon",
	"Co. Sligo", "Co. Tipperary", "Co. Waterford", "Co. Westmeath", "Co. Wexford", "Co. Wicklow")

var itProvinces = []Region{
	{"AG", "Agrigento"}, {"AL", "Alessandria"}, {"AN", "Ancona"}, {"AO", "Aosta"}, {"AR", "Arezzo"},
	{"AP", "Ascoli Piceno"}, {"AT", "Asti"}, {"AV", "Avellino"}, {"BA", "Bari"}, {"BT", "Barletta-Andria-Trani"},
	{"BL", "Belluno"}, {"BN", "Benevento"}, {"BG", "Bergamo"}, {"BI", "Biella"}, {"BO", "Bologna"},
	{"BZ", "Bolzano"}, {"BS", "Brescia"}, {"BR", "Brindisi"}, {"CA", "Cagliari"}, {"CL", "Caltanissetta"},
	{"CB", "Campobasso"}, {"CE", "Caserta"}, {"CT", "Catania"}, {"CZ", "Catanzaro"}, {"CH", "Chieti"},
	{"CO", "Como"}, {"CS", "Cosenza"}, {"CR", "Cremona"}, {"KR", "Crotone"}, {"CN", "Cuneo"},
	{"EN", "Enna"}, {"FM", "Fermo"}, {"FE", "Ferrara"}, {"FI", "Firenze"}, {"FG", "Foggia"},
	{"FC", "Forlì-Cesena"}, {"FR", "Frosinone"}, {"GE", "Genova"}, {"GO", "Gorizia"}, {"GR", "Grosseto"},
	{"IM", "Imperia"}, {"IS", "Isernia"}, {"AQ", "L'Aquila"}, {"SP", "La Spezia"}, {"LT", "Latina"},
	{"LE", "Lecce"}, {"LC", "Lecco"}, {"LI", "Livorno"}, {"LO", "Lodi"}, {"LU", "Lucca"},
	{"MC", "Macerata"}, {"MN", "Mantova"}, {"MS", "Massa-Carrara"}, {"MT", "Matera"}, {"ME", "Messina"},
	{"MI", "Milano"}, {"MO", "Modena"}, {"MB", "Monza e Brianza"}, {"NA", "Napoli"}, {"NO", "Novara"},
	{"NU", "Nuoro"}, {"OR", "Oristano"}, {"PD", "Padova"}, {"PA", "Palermo"}, {"PR", "Parma"},
	{"PV", "Pavia"}, {"PG", "Perugia"}, {"PU", "Pesaro e Urbino"}, {"PE", "Pescara"}, {"PC", "Piacenza"},
	{"PI", "Pisa"}, {"PT", "Pistoia"}, {"PN", "Pordenone"}, {"PZ", "Potenza"}, {"PO", "Prato"},
	{"RG", "Ragusa"}, {"RA", "Ravenna"}, {"RC", "Reggio Calabria"}, {"RE", "Reggio Emilia"}, {"RI", "Rieti"},
	{"RN", "Rimini"}, {"RM", "Roma"}, {"RO", "Rovigo"}, {"SA", "Salerno"}, {"SS", "Sassari"},
	{"SV", "Savona"}, {"SI", "Siena"}, {"SR", "Siracusa"}, {"SO", "Sondrio"}, {"SU", "Sud Sardegna"},
	{"TA", "Taranto"}, {"TE", "Teramo"}, {"TR", "Terni"}, {"TO", "Torino"}, {"TP", "Trapani"},
	{"TN", "Trento"}, {"TV", "Treviso"}, {"TS", "Trieste"}, {"UD", "Udine"}, {"VA", "Varese"},
	{"VE", "Venezia"}, {"VB", "Verbano-Cusio-Ossola"}, {"VC", "Vercelli"}, {"VR", "Verona"},
	{"VV", "Vibo Valentia"}, {"VI", "Vicenza"}, {"VT", "Viterbo"},
}

var esProvinces = names("A Coruña", "Álava", "Albacete", "Alicante", "Almería", "Asturias", "Ávila",
	"Badajoz", "Barcelona", "Burgos", "Cáceres", "Cádiz", "Cantabria", "Castellón", "Ceuta", "Ciudad Real",
	"Córdoba", "Cuenca", "Girona", "Granada", "Guadalajara", "Guipúzcoa", "Huelva", "Huesca",
	"Islas Baleares", "Jaén", "La Rioja", "Las Palmas", "León", "Lleida", "Lugo", "Madrid", "Málaga",
	"Melilla", "Murcia", "Navarra", "Ourense", "Palencia", "Pontevedra", "Salamanca",
	"Santa Cruz de Tenerife", "Segovia", "Sevilla", "Soria", "Tarragona", "Teruel", "Toledo", "Valencia",
	"Valladolid", "Vizcaya", "Zamora", "Zaragoza")
