package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ppalm/ppalm/dataverse"
)

// WebhookURLs points service endpoints (webhooks) at the target's URLs
// (WebhookUrls: SchemaName is the service endpoint's name, Value its URL).
// Every endpoint is found before any is changed. URLs often carry a key in
// their query, so only scheme and host are ever reported.
type WebhookURLs struct{}

func (WebhookURLs) Name() string { return "webhook-urls" }

func (WebhookURLs) Skip(c *Context) (bool, string) {
	if c.Custom == nil || len(configuredWebhooks(c)) == 0 {
		return true, "no WebhookUrls with a value"
	}
	return false, ""
}

// configuredWebhooks lists the entries with a value (an empty value means
// "leave the endpoint as it is").
func configuredWebhooks(c *Context) []int {
	var out []int
	for i, w := range c.Custom.WebhookUrls {
		if strings.TrimSpace(w.Value) != "" {
			out = append(out, i)
		}
	}
	return out
}

func (WebhookURLs) Run(ctx context.Context, c *Context) error {
	file := settingsFile(c.Custom)
	dv := c.Dataverse
	idx := configuredWebhooks(c)
	endpoints := make([]*dataverse.ServiceEndpoint, len(idx))
	values := make([]string, len(idx))
	wheres := make([]string, len(idx))
	errs := parallel(len(idx), c.concurrency(), func(k int) error {
		w := c.Custom.WebhookUrls[idx[k]]
		where := fmt.Sprintf("WebhookUrls[%d] (service endpoint %q) in %s", idx[k], w.SchemaName, file)
		wheres[k] = where
		if strings.TrimSpace(w.SchemaName) == "" {
			return fmt.Errorf("%s: SchemaName is empty: expected the name of a service endpoint", where)
		}
		v := strings.TrimSpace(w.Value)
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s: Value is not an absolute http(s) URL", where)
		}
		values[k] = v
		ep, err := dv.ServiceEndpointByName(ctx, w.SchemaName)
		if errors.Is(err, dataverse.ErrNotFound) {
			return fmt.Errorf("%s: service endpoint %q does not exist in %s: fix SchemaName (the endpoint's name) or import the solution that carries it", where, w.SchemaName, dv.EnvironmentURL())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		endpoints[k] = ep
		return nil
	})
	if err := joinErrors(errs); err != nil {
		return err
	}
	errs = parallel(len(idx), c.concurrency(), func(k int) error {
		ep := endpoints[k]
		if ep.URL == values[k] {
			c.noteSafe("service endpoint %q already points at %s", ep.Name, redactURL(values[k]))
			return nil
		}
		if err := dv.SetServiceEndpointURL(ctx, ep.ID, values[k]); err != nil {
			return fmt.Errorf("%s: %w", wheres[k], err)
		}
		c.noteSafe("service endpoint %q now points at %s", ep.Name, redactURL(values[k]))
		return nil
	})
	return joinErrors(errs)
}

// redactURL keeps scheme and host: the path or query of a webhook URL may
// hold its key.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}
