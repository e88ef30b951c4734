package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// setConsentBypass serves POST .../apps/{app}/setPowerAppConnectionDirectConsentBypass
// with {"bypassconsent": bool}, the admin action behind PowerApps admin
// PowerShell's Set-AdminPowerAppApisToBypassConsent and the CLI for
// Microsoft 365's `pa app consent set` (src/m365/pa/commands/app/
// app-consent-set.ts posts exactly that body, api-version 2021-02-01, and
// reads no answer). The flag is kept on the canvasapps row's bypassconsent
// column (the canvasapp table's own attribute) and shown as the app's
// bypassConsent property; a body without a boolean bypassconsent is refused.
func (e *Emulator) setConsentBypass(w http.ResponseWriter, r *http.Request, env *environment, app record, who *caller) {
	var body map[string]any
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(b, &body); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON: "+err.Error())
		return
	}
	bypass, ok := body["bypassconsent"].(bool)
	if !ok {
		writeError(w, http.StatusBadRequest, "InvalidRequestContent", fmt.Sprintf("bypassconsent: expected true or false, got %v", body["bypassconsent"]))
		return
	}
	appID := str(app["canvasappid"])
	if row, ok := env.t("canvasapps").get(appID); ok {
		row["bypassconsent"] = bypass
	}
	e.record(env, "app-consent-bypass", appID, fmt.Sprint(bypass), who)
	writeJSON(w, http.StatusOK, appJSON(env, app))
}
