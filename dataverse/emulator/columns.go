package emulator

import (
	"strings"
	"sync"
)

// columns lists each table's columns (beyond those present on a row), so
// $select and request bodies naming a column the real table lacks are
// refused as the service refuses them.
var columns = map[string]string{
	"solutions":                      "solutionid uniquename friendlyname version ismanaged isvisible installedon createdon modifiedon description _publisherid_value _parentsolutionid_value _createdby_value _modifiedby_value",
	"solutioncomponents":             "solutioncomponentid _solutionid_value objectid componenttype rootcomponentbehavior ismetadata createdon",
	"solutioncomponentdefinitions":   "solutioncomponentdefinitionid primaryentityname solutioncomponenttype name",
	"publishers":                     "publisherid uniquename friendlyname customizationprefix customizationoptionvalueprefix",
	"asyncoperations":                "asyncoperationid name operationtype statecode statuscode message friendlymessage createdon startedon completedon correlationid _ownerid_value _createdby_value",
	"importjobs":                     "importjobid solutionname progress startedon completedon createdon data operationcontext _createdby_value",
	"workflows":                      "workflowid workflowidunique name description category type primaryentity statecode statuscode clientdata xaml ismanaged _ownerid_value _createdby_value _modifiedby_value createdon modifiedon _solutionid_value",
	"connectionreferences":           "connectionreferenceid connectionreferencelogicalname connectionreferencedisplayname connectorid connectionid description statecode statuscode ismanaged _ownerid_value _createdby_value _modifiedby_value createdon modifiedon",
	"environmentvariabledefinitions": "environmentvariabledefinitionid schemaname displayname description type defaultvalue valueschema secretstore isrequired apiid parameterkey ismanaged statecode statuscode _ownerid_value createdon modifiedon _createdby_value _modifiedby_value",
	"environmentvariablevalues":      "environmentvariablevalueid schemaname value _environmentvariabledefinitionid_value ismanaged statecode statuscode _ownerid_value createdon modifiedon _createdby_value _modifiedby_value",
	"systemusers":                    "systemuserid fullname domainname internalemailaddress azureactivedirectoryobjectid applicationid isdisabled accessmode _businessunitid_value createdon",
	"canvasapps":                     "canvasappid name displayname uniquecanvasappid appversion canvasapptype description ismanaged status _ownerid_value createdon modifiedon _createdby_value _modifiedby_value",
	"teams":                          "teamid name teamtype membershiptype azureactivedirectoryobjectid description _businessunitid_value _administratorid_value _ownerid_value createdon modifiedon _createdby_value _modifiedby_value isdefault",
	"businessunits":                  "businessunitid name _parentbusinessunitid_value createdon",
	"roles":                          "roleid name _businessunitid_value ismanaged",
	"entities":                       "entityid name logicalname originallocalizedname ismanaged",

	// Registrations and record sharing (access.go).
	"serviceendpoints":                      "serviceendpointid name description url contract connectionmode path namespaceaddress namespaceformat solutionnamespace authtype messageformat userclaim saskeyname ismanaged createdon modifiedon _createdby_value _modifiedby_value",
	"sdkmessageprocessingsteps":             "sdkmessageprocessingstepid name description configuration stage mode rank filteringattributes asyncautodelete supporteddeployment invocationsource ishidden statecode statuscode _eventhandler_value _plugintypeid_value _sdkmessageid_value _sdkmessageprocessingstepsecureconfigid_value ismanaged _ownerid_value createdon modifiedon _createdby_value _modifiedby_value",
	"sdkmessageprocessingstepsecureconfigs": "sdkmessageprocessingstepsecureconfigid secureconfig createdon modifiedon _createdby_value _modifiedby_value",
	"connectors":                            "connectorid name displayname description connectortype connectorinternalid iconbrandcolor ismanaged statecode statuscode _ownerid_value createdon modifiedon _createdby_value _modifiedby_value",
	"principalobjectaccessset":              "principalobjectaccessid objectid objecttypecode principalid principaltypecode accessrightsmask inheritedaccessrightsmask changedon",
}

// columnSets is built on first use: package initialisation runs in every
// ppalm process, most of which never start the emulator.
var columnSets = sync.OnceValue(func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for set, cols := range columns {
		m := map[string]bool{}
		for _, c := range strings.Fields(cols) {
			m[c] = true
		}
		out[set] = m
	}
	return out
})

func knownColumn(t *table, col string) bool {
	if cols, ok := columnSets()[t.set]; ok && cols[col] {
		return true
	}
	for _, r := range t.rows {
		_, ok := r[col]
		return ok
	}
	return false
}
