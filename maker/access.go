package maker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ppalm/ppalm/gitops"
	"github.com/ppalm/ppalm/internal/guid"
)

// Who may do what. A profile's makers and advanced lists and the profiles
// file's admins name people and Entra groups (Principal); a request acts
// for one Identity, and the checks below are the only place they meet.
// Every check runs in the server on every request: a page that hides a
// profile or a button is a courtesy, the refusal is the rule.

// Identity is who a request acts for: the signed-in maker.
type Identity struct {
	gitops.Signature // commit author; Email is the sign-in name (UPN)
	// ObjectID is the maker's Entra object id, when known.
	ObjectID string
	// Groups are the object ids of the Entra groups the maker is in.
	Groups []string
}

// Principal is one entry of a makers, advanced or admins list: a person
// (by sign-in name or object id) or an Entra group (by object id).
//
//	makers:
//	  - alex@contoso.com                               # a person
//	  - group: 6a0b1c2d-0000-4000-8000-0000000000a2    # everyone in an Entra group
//	    name: Contoso Makers                           # for readers; the id decides
type Principal struct {
	User  string // sign-in name (e-mail form) or object id
	Group string // Entra group object id
	// Name is the display name, kept for whoever reads the file; only
	// User and Group decide.
	Name string
}

// IsObjectID says whether s is an Entra object id (a GUID).
func IsObjectID(s string) bool { return len(s) == 36 && guid.Valid(s) }

// Matches says whether id is the person or in the group p names.
func (p Principal) Matches(id Identity) bool {
	switch {
	case p.Group != "":
		return slices.ContainsFunc(id.Groups, func(g string) bool { return strings.EqualFold(g, p.Group) })
	case p.User == "":
		return false
	case IsObjectID(p.User):
		return id.ObjectID != "" && strings.EqualFold(p.User, id.ObjectID)
	}
	return id.Email != "" && strings.EqualFold(p.User, id.Email)
}

// String is how a page names p.
func (p Principal) String() string {
	switch {
	case p.Group != "" && p.Name != "":
		return p.Name + " (group)"
	case p.Group != "":
		return "group " + p.Group
	case p.Name != "":
		return p.Name + " <" + p.User + ">"
	}
	return p.User
}

// UnmarshalYAML reads a person as a plain string, or a mapping with user or
// group and an optional name.
func (p *Principal) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		p.User = strings.TrimSpace(n.Value)
		return nil
	}
	var m struct {
		User  string `yaml:"user"`
		Group string `yaml:"group"`
		Name  string `yaml:"name"`
	}
	// Decode with known fields: a typo such as "groups:" must not turn an
	// entry into one that matches nobody without a word.
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a sign-in name or {group: OBJECT-ID, name: NAME}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; k {
		case "user", "group", "name":
		default:
			return fmt.Errorf("line %d: field %s not found in a makers/advanced/admins entry (expected user, group, name)", n.Content[i].Line, k)
		}
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	p.User, p.Group, p.Name = strings.TrimSpace(m.User), strings.TrimSpace(m.Group), strings.TrimSpace(m.Name)
	return nil
}

// MarshalYAML writes a person without a name as a plain string.
func (p Principal) MarshalYAML() (any, error) {
	if p.Group == "" && p.Name == "" {
		return p.User, nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k, v string) {
		if v != "" {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
		}
	}
	add("user", p.User)
	add("group", p.Group)
	add("name", p.Name)
	return m, nil
}

// check says what is wrong with p, or "".
func (p Principal) check() string {
	switch {
	case p.User != "" && p.Group != "":
		return "expected user or group, not both"
	case p.Group != "" && !IsObjectID(p.Group):
		return fmt.Sprintf("group %q: expected the group's object id (a GUID)", p.Group)
	case p.Group == "" && p.User == "":
		return "expected a sign-in name (alex@contoso.com) or a group's object id"
	case p.User != "" && !IsObjectID(p.User) && !strings.Contains(p.User, "@"):
		return fmt.Sprintf("user %q: expected a sign-in name such as alex@contoso.com, or an object id", p.User)
	}
	return ""
}

func anyMatches(list []Principal, id Identity) bool {
	return slices.ContainsFunc(list, func(p Principal) bool { return p.Matches(id) })
}

// visit is what the guards learnt about a request: who it acts for and the
// CSRF token its forms carry. It travels in the request's context.
type visit struct {
	csrf string
	// team says the request came through team mode's sign-in (the layout
	// shows Sign out).
	team bool
	who  Identity
	// groups resolves who.Groups the first time a check needs them (local
	// mode asks Graph; team mode reads the token's claims, or Graph when
	// they did not fit).
	groups    func(ctx context.Context) ([]string, error)
	once      sync.Once
	groupsErr error
	// snap is the last .ppalm snapshot the request read (the layout's
	// Profiles link asks it rather than reading again).
	snap atomic.Pointer[snapshot]
}

type visitKey struct{}

func visitOf(ctx context.Context) *visit {
	v, _ := ctx.Value(visitKey{}).(*visit)
	if v == nil {
		return &visit{}
	}
	return v
}

// who is the maker a request acts for, with their groups.
func (s *Server) who(ctx context.Context) Identity {
	v := visitOf(ctx)
	v.once.Do(func() {
		if v.groups != nil {
			var gs []string
			gs, v.groupsErr = v.groups(ctx)
			v.who.Groups = append(v.who.Groups, gs...)
		}
	})
	return v.who
}

// groupCache keeps what Graph said about a maker's groups for a few
// minutes: a cache, not state (another replica asks again).
type groupCache struct {
	mu      sync.Mutex
	entries map[string]groupEntry
}

type groupEntry struct {
	groups  []string
	expires time.Time
}

const groupCacheTTL = 5 * time.Minute

func (c *groupCache) get(key string, now time.Time, load func() ([]string, error)) ([]string, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.groups, nil
	}
	c.mu.Unlock()
	gs, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 10000 {
		c.entries = map[string]groupEntry{}
	}
	c.entries[key] = groupEntry{groups: gs, expires: now.Add(groupCacheTTL)}
	return gs, nil
}
