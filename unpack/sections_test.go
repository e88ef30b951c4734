package unpack

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ppalm/ppalm/fixtures"
)

// The sections below have the shapes real exports give them (email
// templates and a report as exported by Dataverse 9.2.26034, a dialog, a
// virtual table data source and provider); they are added to the real
// FollowSites export, whose customizations.xml has none of them.
const (
	templatesSection = `<Templates>
    <EmailTemplates>
      <emailtemplate>
        <templateid>{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a01}</templateid>
        <subject>&lt;?xml version="1.0" ?&gt;&lt;xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"&gt;&lt;xsl:output method="text" indent="no" /&gt;&lt;xsl:template match="/data"&gt;&lt;![CDATA[Site followed]]&gt;&lt;/xsl:template&gt;&lt;/xsl:stylesheet&gt;</subject>
        <subjectpresentationxml>&lt;template&gt;&lt;text&gt;&lt;![CDATA[Site followed]]&gt;&lt;/text&gt;&lt;/template&gt;</subjectpresentationxml>
        <mimetype>text/html</mimetype>
        <templatetypecode>2</templatetypecode>
        <body>&lt;?xml version="1.0" ?&gt;&lt;xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"&gt;&lt;xsl:output method="text" indent="no"/&gt;&lt;xsl:template match="/data"&gt;&lt;![CDATA[&lt;P&gt;Dear ]]&gt;&lt;xsl:value-of select="contact/fullname" /&gt;&lt;![CDATA[, you follow a new site &amp; its news.&lt;/P&gt;]]&gt;&lt;/xsl:template&gt;&lt;/xsl:stylesheet&gt;</body>
        <title>Site followed</title>
        <presentationxml>&lt;template&gt;
	&lt;text&gt;&lt;![CDATA[&lt;P&gt;Dear ]]&gt;&lt;/text&gt;
	&lt;slugs&gt;&lt;slug&gt;&lt;entity&gt;contact&lt;/entity&gt;&lt;attribute&gt;fullname&lt;/attribute&gt;&lt;/slug&gt;&lt;default/&gt;&lt;/slugs&gt;&lt;text&gt;&lt;![CDATA[, you follow a new site &amp; its news.&lt;/P&gt;]]&gt;&lt;/text&gt;&lt;/template&gt;
</presentationxml>
        <languagecode>1033</languagecode>
        <generationtypecode>0</generationtypecode>
        <IntroducedVersion>1.0.0.0</IntroducedVersion>
      </emailtemplate>
      <emailtemplate>
        <templateid>{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a02}</templateid>
        <subject></subject>
        <subjectpresentationxml></subjectpresentationxml>
        <templatetypecode>2</templatetypecode>
        <body></body>
        <title>Blank</title>
        <presentationxml></presentationxml>
        <languagecode>1031</languagecode>
        <generationtypecode>0</generationtypecode>
        <IntroducedVersion>1.0.0.0</IntroducedVersion>
      </emailtemplate>
    </EmailTemplates>
  </Templates>`
	reportsSection = `<Reports>
    <ReportSignatureIdMappings>
      <ReportSignatureIdMapping reportid="{31327784-15d8-f011-8544-000d3a81a9a9}" signatureid="{00000000-0000-0000-0000-000000000000}" signaturelcid="0" />
    </ReportSignatureIdMappings>
    <Report>
      <name>Followed sites</name>
      <iscustomreport>1</iscustomreport>
      <filename>Followed sites.rdl</filename>
      <languagecode>1033</languagecode>
      <reportid>{31327784-15d8-f011-8544-000d3a81a9a9}</reportid>
      <reporttypecode>1</reporttypecode>
      <ExportedFileName>/Reports/Followedsitesrdl31327784-15d8-f011-8544-000d3a81a9a9.wdl</ExportedFileName>
      <ReportCategories />
      <ReportVisibilities>
        <ReportVisbility>2</ReportVisbility>
      </ReportVisibilities>
    </Report>
  </Reports>`
	reportPart     = "Reports/Followedsitesrdl31327784-15d8-f011-8544-000d3a81a9a9.wdl"
	dialogsSection = `<Dialogs>
    <Dialog>
      <LocalizedNames>
        <LocalizedName description="Follow a site" languagecode="1033" />
      </LocalizedNames>
      <FormId>{0f7ca1b0-be13-4b18-aa02-1c7f3a058116}</FormId>
      <UniqueName>6f6a338d-bba7-46b0-91d3-0219890b67f5</UniqueName>
      <IsCustomizable>1</IsCustomizable>
      <FormXml>
        <forms type="dialog">
          <form />
        </forms>
      </FormXml>
    </Dialog>
  </Dialogs>`
	providersSection = `<EntityDataProviders>
    <EntityDataProvider>
      <EntityDataProviderId>{4ce87aa8-6263-e811-a96b-000d3a1a9151}</EntityDataProviderId>
      <Name>Sites Data Provider</Name>
      <DataSourceLogicalName>alexmsft_sitessource</DataSourceLogicalName>
      <IsCustomizable>1</IsCustomizable>
    </EntityDataProvider>
  </EntityDataProviders>`
	sourcesSection = `<EntityDataSources>
    <EntityDataSource EntityDataSourceId="{356eddaa-3306-44ca-947f-066efbdc5ce2}">
      <Name>Sites</Name>
      <EntityDataProviderId>{4ce87aa8-6263-e811-a96b-000d3a1a9151}</EntityDataProviderId>
      <IsCustomizable>1</IsCustomizable>
    </EntityDataSource>
  </EntityDataSources>`
)

// sectionsZip is the FollowSites export with the sections above.
func sectionsZip(t *testing.T) string {
	t.Helper()
	src := fixtures.Path("followsites-small", "sharepoint-followsites.zip")
	zr, err := zip.OpenReader(src)
	must(t, err)
	defer zr.Close()
	out := filepath.Join(t.TempDir(), "FollowSitesSections.zip")
	f, err := os.Create(out)
	must(t, err)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		must(t, err)
		var b bytes.Buffer
		_, err = b.ReadFrom(rc)
		must(t, err)
		rc.Close()
		data := b.Bytes()
		if e.Name == customizationsPart {
			c := string(data)
			for old, repl := range map[string]string{
				"<Templates />":           templatesSection,
				"<optionsets />":          "<optionsets />\n  " + reportsSection + "\n  " + dialogsSection,
				"<EntityDataProviders />": providersSection + "\n  " + sourcesSection,
			} {
				if !strings.Contains(c, old) {
					t.Fatalf("FollowSites customizations.xml has no %s", old)
				}
				c = strings.Replace(c, old, strings.ReplaceAll(repl, "\n", "\r\n"), 1)
			}
			data = []byte(c)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: zip.Deflate})
		must(t, err)
		_, err = w.Write(data)
		must(t, err)
	}
	w, err := zw.Create(reportPart)
	must(t, err)
	_, err = w.Write([]byte(`<CustomReport><Language>1033</Language></CustomReport>`))
	must(t, err)
	must(t, zw.Close())
	must(t, f.Close())
	return out
}

// Email templates, reports, dialogs, virtual table data sources and
// providers are split the way SolutionPackager splits them, and packed
// back into their sections.
func TestSplitSections(t *testing.T) {
	z := sectionsZip(t)
	dir, sum := unpackTo(t, z, UnpackOptions{})
	tree := readDir(t, dir)
	const docs = "Templates/EmailDocuments/1033/{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a01}/"
	const report = "Reports/1033/{31327784-15d8-f011-8544-000d3a81a9a9}/Followed sites.rdl"
	for _, p := range []string{
		"Templates/EmailTemplates.xml", docs + "body.xsl", docs + "subject.xsl", docs + "presentationxml.xml", docs + "subjectpresentationxml.xml",
		"Reports/ReportSignatureIdMappings.xml", report, report + ".data.xml",
		"Dialogs/{0f7ca1b0-be13-4b18-aa02-1c7f3a058116}.xml",
		"EntityDataProviders/{4ce87aa8-6263-e811-a96b-000d3a1a9151}.xml",
		"EntityDataSources/{356eddaa-3306-44ca-947f-066efbdc5ce2}.xml",
	} {
		if _, ok := tree[p]; !ok {
			t.Errorf("%s not written", p)
		}
	}
	if _, ok := tree[reportPart]; ok {
		t.Errorf("the report's .wdl stayed at its zip path")
	}
	for _, p := range []string{"Templates/EmailDocuments/1031/{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a02}/body.xsl"} {
		if _, ok := tree[p]; ok {
			t.Errorf("%s written for an empty field", p)
		}
	}
	cust := string(tree["Other/Customizations.xml"])
	for _, sec := range []string{"Templates", "Reports", "Dialogs", "EntityDataProviders", "EntityDataSources"} {
		if !strings.Contains(cust, "<"+sec+" />") {
			t.Errorf("Other/Customizations.xml lacks the placeholder <%s />", sec)
		}
	}
	// The documents: XSL text after a BOM; presentation XML re-serialised.
	if got := string(tree[docs+"subject.xsl"]); got != "\uFEFF"+`<?xml version="1.0" ?><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:output method="text" indent="no" /><xsl:template match="/data"><![CDATA[Site followed]]></xsl:template></xsl:stylesheet>` {
		t.Errorf("subject.xsl = %q", got)
	}
	wantPresentation := string(xmlHeader) + "<template>\n  <text><![CDATA[<P>Dear ]]></text>\n  <slugs>\n    <slug>\n      <entity>contact</entity>\n      <attribute>fullname</attribute>\n    </slug>\n    <default />\n  </slugs>\n  <text><![CDATA[, you follow a new site & its news.</P>]]></text>\n</template>"
	if got := string(tree[docs+"presentationxml.xml"]); got != wantPresentation {
		t.Errorf("presentationxml.xml =\n%s\nwant\n%s", got, wantPresentation)
	}
	et := string(tree["Templates/EmailTemplates.xml"])
	if !strings.HasPrefix(et, string(xmlHeader)+`<EmailTemplates xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`) ||
		!strings.Contains(et, "\n    <subject></subject>\n") || !strings.Contains(et, "\n    <body></body>\n") || strings.Contains(et, "xsl:stylesheet") {
		t.Errorf("Templates/EmailTemplates.xml keeps the documents or lost its shape:\n%s", et)
	}
	if !strings.HasPrefix(string(tree[report+".data.xml"]), string(xmlHeader)+"<Report>\n  <name>Followed sites</name>") {
		t.Errorf("report metadata: %s", tree[report+".data.xml"])
	}
	if got := string(tree[report]); got != `<CustomReport><Language>1033</Language></CustomReport>` {
		t.Errorf("report definition = %q", got)
	}
	for kind, n := range map[string]int{"Email templates": 2, "Reports": 1, "Dialogs": 1, "Virtual table data sources": 1, "Virtual table data providers": 1} {
		if sum.Components[kind] != n {
			t.Errorf("summary counts %d %s, want %d", sum.Components[kind], kind, n)
		}
	}

	packed := packTo(t, dir, 0)
	assertEquivalentZips(t, z, packed)
	again, _ := unpackTo(t, packed, UnpackOptions{})
	assertSameTree(t, dir, again)
}

// A tree that cannot pack whole fails with one error naming the file, and
// no zip is written: an unknown top-level folder, split files whose section
// is gone from Other/Customizations.xml, a section whose file is gone.
func TestPackRefusesBadTrees(t *testing.T) {
	z := sectionsZip(t)
	const docs = "Templates/EmailDocuments/1033/{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a01}/"
	const report = "Reports/1033/{31327784-15d8-f011-8544-000d3a81a9a9}/Followed sites.rdl"
	dropSection := func(sec string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, "Other", "Customizations.xml")
			b, err := os.ReadFile(p)
			must(t, err)
			cut := strings.Replace(string(b), "<"+sec+" />", "", 1)
			if cut == string(b) {
				t.Fatalf("no <%s /> in the tree", sec)
			}
			must(t, os.WriteFile(p, []byte(cut), 0o644))
		}
	}
	remove := func(rel string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, filepath.FromSlash(rel)))) }
	}
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   []string
	}{
		{"unknown top-level folder", func(t *testing.T, dir string) { writeFile(t, dir, "Extras/notes.txt", "x") },
			[]string{"Extras/notes.txt", "--allow-extra"}},
		{"unknown file among the templates", func(t *testing.T, dir string) {
			writeFile(t, dir, "Templates/KBArticleTemplates/1033/{a}/formatxml.xsl", "x")
		}, []string{"Templates/KBArticleTemplates/1033/{a}/formatxml.xsl", "<Templates>", "would be lost"}},
		{"email templates without their section", dropSection("Templates"), []string{docs + "body.xsl", "no empty <Templates />"}},
		{"reports without their section", dropSection("Reports"), []string{report + ".data.xml", "no empty <Reports />"}},
		{"dialogs without their section", dropSection("Dialogs"), []string{"Dialogs/{0f7ca1b0-be13-4b18-aa02-1c7f3a058116}.xml", "no empty <Dialogs />"}},
		{"data providers without their section", dropSection("EntityDataProviders"), []string{"EntityDataProviders/{4ce87aa8-6263-e811-a96b-000d3a1a9151}.xml", "no empty <EntityDataProviders />"}},
		{"data sources without their section", dropSection("EntityDataSources"), []string{"EntityDataSources/{356eddaa-3306-44ca-947f-066efbdc5ce2}.xml", "no empty <EntityDataSources />"}},
		{"flows without their section", dropSection("Workflows"), []string{"Workflows/", ".json.data.xml", "no empty <Workflows />"}},
		{"report without its definition", remove(report), []string{report + ".data.xml", report + " is missing"}},
		{"documents without their template list", remove("Templates/EmailTemplates.xml"), []string{docs, "without Templates/EmailTemplates.xml"}},
		{"document of a template no longer listed", func(t *testing.T, dir string) {
			writeFile(t, dir, "Templates/EmailDocuments/1033/{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a09}/body.xsl", "x")
		}, []string{"Templates/EmailDocuments/1033/{6a1c6c6b-0d0e-4b8e-9a6e-4d2f0b9c1a09}/body.xsl", "no <emailtemplate>"}},
		{"flow without its definition", remove("Workflows/Findsites-3E587800-9A7C-EE11-8178-002248C6B93D.json"),
			[]string{"<JsonFileName>Workflows/Findsites-3E587800-9A7C-EE11-8178-002248C6B93D.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := unpackTo(t, z, UnpackOptions{})
			c.mutate(t, dir)
			packFails(t, dir, PackOptions{}, c.want...)
		})
	}
}

// Both: the sections come from the unmanaged export once, and pack writes
// them into both zips.
func TestSplitSectionsBoth(t *testing.T) {
	z := sectionsZip(t)
	mz := ManagedZipName(z)
	b, err := os.ReadFile(z)
	must(t, err)
	// The managed twin of the test export: the same parts, Managed=1.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	must(t, err)
	f, err := os.Create(mz)
	must(t, err)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, err := e.Open()
		must(t, err)
		var buf bytes.Buffer
		_, err = buf.ReadFrom(rc)
		must(t, err)
		data := buf.Bytes()
		if e.Name == solutionPart {
			data = bytes.Replace(data, []byte("<Managed>0</Managed>"), []byte("<Managed>1</Managed>"), 1)
		}
		w, err := zw.Create(e.Name)
		must(t, err)
		_, err = w.Write(data)
		must(t, err)
	}
	must(t, zw.Close())
	must(t, f.Close())
	dir, _ := unpackTo(t, z, UnpackOptions{PackageType: Both})
	out := filepath.Join(t.TempDir(), "Out.zip")
	if _, err := Pack(context.Background(), PackOptions{Folder: dir, ZipFile: out, PackageType: Both}); err != nil {
		t.Fatal(err)
	}
	assertEquivalentZips(t, z, out)
	assertEquivalentZips(t, mz, ManagedZipName(out))
}

// <Templates> holding kinds whose documents ppalm does not split (KB
// article templates) stays inline, whole, and packs back as it was.
func TestTemplatesWithOtherKindsStayInline(t *testing.T) {
	parts := readZip(t, fixtures.Path("followsites-small", "sharepoint-followsites.zip"))
	var entries []entry
	for _, n := range sortedNames(parts) {
		entries = append(entries, entry{n, parts[n]})
	}
	kb := "<Templates>\r\n    <KBArticleTemplates>\r\n      <KBArticleTemplate>\r\n        <kbarticletemplateid>{1b3c3f6e-0000-4000-8000-000000000001}</kbarticletemplateid>\r\n        <title>How to</title>\r\n        <formatxml>&lt;xsl:stylesheet /&gt;</formatxml>\r\n        <languagecode>1033</languagecode>\r\n      </KBArticleTemplate>\r\n    </KBArticleTemplates>\r\n  </Templates>"
	cust := strings.Replace(string(parts[customizationsPart]), "<Templates />", kb, 1)
	zp := filepath.Join(t.TempDir(), "KB.zip")
	must(t, os.WriteFile(zp, makeZip(t, replaced(entries, customizationsPart, []byte(cust))...), 0o644))
	dir, _ := unpackTo(t, zp, UnpackOptions{})
	tree := readDir(t, dir)
	for p := range tree {
		if strings.HasPrefix(p, "Templates/") {
			t.Errorf("%s written for a section ppalm keeps inline", p)
		}
	}
	if !strings.Contains(string(tree["Other/Customizations.xml"]), "<KBArticleTemplates>") {
		t.Errorf("the KB article templates are not inline in Other/Customizations.xml")
	}
	assertEquivalentZips(t, zp, packTo(t, dir, 0))
}
