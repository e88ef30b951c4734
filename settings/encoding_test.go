package settings

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

func utf16Bytes(s string, bigEndian bool) []byte {
	var out []byte
	if bigEndian {
		out = []byte{0xFE, 0xFF}
	} else {
		out = []byte{0xFF, 0xFE}
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// Settings files in another encoding than UTF-8 are refused naming the
// file and the encoding (or the offending byte's offset); UTF-8 with or
// without a byte order mark is read.
func TestSettingsEncoding(t *testing.T) {
	doc := `{"EnvironmentVariables":[{"SchemaName":"cr_Greeting","Value":"Grüße, café"}],"ConnectionReferences":[]}`
	for name, data := range map[string][]byte{
		"utf8":     []byte(doc),
		"utf8 bom": append([]byte{0xEF, 0xBB, 0xBF}, doc...),
	} {
		ds, _, err := ParseDeploymentSettings("ds.json", data)
		if err != nil || ds.EnvironmentVariables[0].Value != "Grüße, café" {
			t.Errorf("%s: %v %+v", name, err, ds)
		}
	}
	latin1 := []byte(strings.NewReplacer("ü", "\xfc", "ß", "\xdf", "é", "\xe9").Replace(doc))
	off := strings.Index(string(latin1), "\xfc")
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"latin-1", latin1, []string{"ds.json: not UTF-8: byte 0xFC at offset " + strconv.Itoa(off), "Latin-1", `"ü"`, "save it as UTF-8"}},
		{"utf-16 le", utf16Bytes(doc, false), []string{"ds.json: is UTF-16 LE", "save it as UTF-8"}},
		{"utf-16 be", utf16Bytes(doc, true), []string{"ds.json: is UTF-16 BE"}},
		{"utf-16 no bom", utf16Bytes(doc, false)[2:], []string{"ds.json: looks like UTF-16"}},
	} {
		_, _, err := ParseDeploymentSettings("ds.json", tc.data)
		var ee *EncodingError
		if !errors.As(err, &ee) {
			t.Errorf("%s: err = %v, want an EncodingError", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to contain %q", tc.name, err, w)
			}
		}
		// Filling tokens refuses the same file the same way.
		if _, err := FillTokens("ds.json", tc.data, func(string) (string, bool) { return "", false }); !errors.As(err, &ee) {
			t.Errorf("%s: FillTokens err = %v, want an EncodingError", tc.name, err)
		}
	}
}
