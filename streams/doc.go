// Package streams is the home of the das stream services. The library lives in
// its subpackages: das (model and Sink), dastime (time parsing and epochs), das2
// and das3 (readers and writers), dascsv (CSV writer), convert (format sniffing and
// any-to-any conversion), reduce (bin averaging), verify (spec section 7 checks)
// and dascli (the `rhizoflex das` command).
package streams
