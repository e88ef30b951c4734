package teamauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// KeySize is the length of a session key: AES-256.
const KeySize = 32

// GenerateSessionKey returns a new random key in the form
// ParseSessionKeys reads (for PPALM_SESSION_KEYS).
func GenerateSessionKey() string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseSessionKeys reads comma-separated base64 keys of 32 bytes each; the
// first seals new cookies, every one opens them. The error never quotes a
// key.
func ParseSessionKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(part)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(part)
		}
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("session key %d: expected base64 of %d random bytes (openssl rand -base64 32 prints one)", i+1, KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no session key: every replica needs the same key to open the others' cookies")
	}
	return keys, nil
}

// sealer seals values under the first key and opens them under any.
type sealer struct {
	aeads []cipher.AEAD
}

func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, errors.New("no session key configured")
	}
	if len(keys) > 255 {
		return nil, errors.New("more than 255 session keys")
	}
	s := &sealer{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("session key %d is %d bytes; expected %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// seal encrypts v's JSON bound to name: key index byte, nonce, ciphertext.
func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	aead := s.aeads[0]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out[1:]); err != nil {
		return "", err
	}
	out = aead.Seal(out, out[1:1+aead.NonceSize()], plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

var errCookie = errors.New("the cookie does not open with any session key")

// open decrypts a sealed value bound to name into v.
func (s *sealer) open(name, sealed string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < 1 {
		return errCookie
	}
	// The key index is a hint; try it first, then the others (a replica
	// with the keys in another order still opens the cookie).
	order := []int{int(raw[0])}
	for i := range s.aeads {
		if i != int(raw[0]) {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if i >= len(s.aeads) {
			continue
		}
		aead := s.aeads[i]
		if len(raw) < 1+aead.NonceSize()+aead.Overhead() {
			return errCookie
		}
		plain, err := aead.Open(nil, raw[1:1+aead.NonceSize()], raw[1+aead.NonceSize():], []byte(name))
		if err == nil {
			return json.Unmarshal(plain, v)
		}
	}
	return errCookie
}

// chunkSize keeps each cookie (name, value and attributes) under the 4096
// bytes browsers store.
const chunkSize = 3800

// maxChunks bounds what a request can make the server read.
const maxChunks = 8

// cookieJar writes and reads a possibly chunked cookie.
type cookieJar struct {
	secure bool
}

func (j cookieJar) base(name string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Path: "/", HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

// write sets name to value, splitting it into name, name.1… when large, and
// clears chunks left from a longer earlier value.
func (j cookieJar) write(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	var chunks []string
	for len(value) > chunkSize {
		chunks = append(chunks, value[:chunkSize])
		value = value[chunkSize:]
	}
	chunks = append(chunks, value)
	if len(chunks) == 1 {
		c := j.base(name, maxAge)
		c.Value = chunks[0]
		http.SetCookie(w, c)
	} else {
		c := j.base(name, maxAge)
		c.Value = "chunks:" + strconv.Itoa(len(chunks))
		http.SetCookie(w, c)
		for i, part := range chunks {
			c := j.base(name+"."+strconv.Itoa(i+1), maxAge)
			c.Value = part
			http.SetCookie(w, c)
		}
	}
	used := len(chunks)
	if used == 1 {
		used = 0
	}
	for i := used + 1; i <= maxChunks; i++ {
		if _, err := r.Cookie(name + "." + strconv.Itoa(i)); err == nil {
			http.SetCookie(w, j.base(name+"."+strconv.Itoa(i), -1))
		}
	}
}

// read returns the cookie's value, joined from its chunks.
func (j cookieJar) read(r *http.Request, name string) (string, bool) {
	// Parse the Cookie header once, not once per chunk.
	jar := map[string]string{}
	for _, c := range r.Cookies() {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			jar[c.Name] = c.Value
		}
	}
	v := jar[name]
	if v == "" {
		return "", false
	}
	n, ok := strings.CutPrefix(v, "chunks:")
	if !ok {
		return v, true
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 2 || count > maxChunks {
		return "", false
	}
	var b strings.Builder
	for i := 1; i <= count; i++ {
		part, ok := jar[name+"."+strconv.Itoa(i)]
		if !ok {
			return "", false
		}
		b.WriteString(part)
	}
	return b.String(), true
}

// clear removes the cookie and its chunks.
func (j cookieJar) clear(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, j.base(name, -1))
	for i := 1; i <= maxChunks; i++ {
		if _, err := r.Cookie(name + "." + strconv.Itoa(i)); err == nil {
			http.SetCookie(w, j.base(name+"."+strconv.Itoa(i), -1))
		}
	}
}

// sessionData is what the session cookie holds.
type sessionData struct {
	V             int       `json:"v"`
	ObjectID      string    `json:"oid"`
	UPN           string    `json:"upn"`
	Name          string    `json:"name,omitempty"`
	TenantID      string    `json:"tid"`
	Groups        []string  `json:"grp,omitempty"`
	GroupsOverage bool      `json:"ovr,omitempty"`
	Issued        time.Time `json:"iat"`
	Expires       time.Time `json:"exp"`
	CSRF          string    `json:"csrf"`
	AccessToken   string    `json:"at"`
	AccessExpires time.Time `json:"atx"`
	RefreshToken  string    `json:"rt,omitempty"`
}

// signInData is what the sign-in cookie holds between /auth/signin and
// /auth/callback.
type signInData struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Return   string    `json:"r"`
	Expires  time.Time `json:"exp"`
}
