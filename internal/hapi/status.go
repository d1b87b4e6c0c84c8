package hapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// status is the HAPI status object.
type status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// codes are the HAPI status codes (spec 4.2) with their HTTP status and message.
var codes = map[int]struct {
	http int
	msg  string
}{
	1200: {http.StatusOK, "OK"},
	1201: {http.StatusOK, "OK - no data for time range"},
	1400: {http.StatusBadRequest, "Bad request - user input error"},
	1401: {http.StatusBadRequest, "Bad request - unknown API parameter name"},
	1402: {http.StatusBadRequest, "Bad request - syntax error in start time"},
	1403: {http.StatusBadRequest, "Bad request - syntax error in stop time"},
	1404: {http.StatusBadRequest, "Bad request - start equal to or after stop"},
	1405: {http.StatusBadRequest, "Bad request - start < startDate and/or stop > stopDate"},
	1406: {http.StatusNotFound, "Bad request - unknown dataset id"},
	1407: {http.StatusNotFound, "Bad request - unknown dataset parameter"},
	1408: {http.StatusBadRequest, "Bad request - too much time or data requested"},
	1409: {http.StatusBadRequest, "Bad request - unsupported output format"},
	1410: {http.StatusBadRequest, "Bad request - unsupported include value"},
	1411: {http.StatusBadRequest, "Bad request - out-of-order or duplicate parameters"},
	1412: {http.StatusBadRequest, "Bad request - unsupported resolve_references value"},
	1413: {http.StatusBadRequest, "Bad request - unsupported depth value"},
	1500: {http.StatusInternalServerError, "Internal server error"},
	1501: {http.StatusInternalServerError, "Internal server error - upstream request error"},
}

// message is the status message of code: the spec's wording prefixed with
// "HAPI error NNNN: " for errors, as the verifier looks for.
func message(code int) string {
	m := codes[code].msg
	if code >= 1400 {
		return "HAPI error " + strconv.Itoa(code) + ": " + m
	}
	return m
}

func ok(code int) status { return status{Code: code, Message: message(code)} }

// fail writes an error status; detail (never user input) is appended to the message.
func (h *Handler) fail(w http.ResponseWriter, _ *http.Request, code int, detail string) {
	st := ok(code)
	if detail != "" {
		st.Message += " (" + detail + ")"
	}
	writeStatus(w, codes[code].http, st)
}

// writeStatus writes a HAPI header holding only a status.
func writeStatus(w http.ResponseWriter, httpStatus int, st status) {
	writeJSON(w, httpStatus, struct {
		HAPI   string `json:"HAPI"`
		Status status `json:"status"`
	}{Version, st})
}

// writeJSON writes v as an application/json answer.
func writeJSON(w http.ResponseWriter, httpStatus int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		httpStatus = http.StatusInternalServerError
		b = []byte(`{"HAPI":"` + Version + `","status":{"code":1500,"message":"` + message(1500) + `"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(httpStatus)
	_, _ = w.Write(append(b, '\n'))
}
