package emulator

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"strings"
)

// record is one row of a Dataverse table, keyed by column logical name.
// Values are JSON-ready: string, int, float64, bool or nil.
type record map[string]any

// table is an in-memory Dataverse table (entity set) keeping insertion order,
// which is the order queries return rows in unless $orderby says otherwise.
type table struct {
	set     string // entity set name: workflows
	logical string // entity logical name: workflow
	key     string // primary key column: workflowid
	rows    map[string]record
	order   []string
}

func newTable(set, logical, key string) *table {
	return &table{set: set, logical: logical, key: key, rows: map[string]record{}}
}

func (t *table) get(id string) (record, bool) {
	r, ok := t.rows[normID(id)]
	return r, ok
}

// put inserts or replaces the row with the id held in its key column.
func (t *table) put(r record) {
	id := normID(str(r[t.key]))
	r[t.key] = id
	if _, ok := t.rows[id]; !ok {
		t.order = append(t.order, id)
	}
	t.rows[id] = r
}

func (t *table) remove(id string) bool {
	id = normID(id)
	if _, ok := t.rows[id]; !ok {
		return false
	}
	delete(t.rows, id)
	for i, o := range t.order {
		if o == id {
			t.order = append(t.order[:i:i], t.order[i+1:]...)
			break
		}
	}
	return true
}

// all returns the rows in insertion order.
func (t *table) all() []record {
	out := make([]record, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.rows[id])
	}
	return out
}

// find returns the first row whose column equals value (strings compare
// case-insensitively, as Dataverse does).
func (t *table) find(column string, value any) (record, bool) {
	for _, id := range t.order {
		r := t.rows[id]
		if valuesEqual(r[column], value) {
			return r, true
		}
	}
	return nil, false
}

func (t *table) filter(keep func(record) bool) []record {
	var out []record
	for _, id := range t.order {
		if r := t.rows[id]; keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func (r record) clone() record {
	c := make(record, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// normID lower-cases a GUID and strips braces; other keys pass unchanged
// apart from case.
func normID(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "{}"))
}

func str(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		return fmt.Sprint(t)
	}
}

func num(v any) (float64, bool) {
	switch t := v.(type) {
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

// nameUUID derives a stable version-5-style GUID from a name, so documented
// ids (environment ids, system user ids) are the same on every run.
func nameUUID(name string) string {
	h := sha1.Sum([]byte("ppalm-emulator:" + name))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return formatUUID(h[:16])
}

// newUUID returns a random version-4 GUID.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return formatUUID(b[:])
}

func formatUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func isGUID(s string) bool {
	s = strings.Trim(s, "{}")
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
