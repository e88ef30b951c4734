package task

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// AzureDevOps reports through the agent's logging commands (##vso[...]).
type AzureDevOps struct {
	out     lineOut
	masks   masker
	tempDir string
}

// NewAzureDevOps writes logging commands to w; summaries are written as
// files into tempDir (AGENT_TEMPDIRECTORY), which the agent uploads.
func NewAzureDevOps(w io.Writer, tempDir string) *AzureDevOps {
	return &AzureDevOps{out: lineOut{w: w}, tempDir: tempDir}
}

func (a *AzureDevOps) StartGroup(name string) func() {
	a.out.println("##[group]" + defuseADO(oneLine(a.masks.mask(name))))
	return onceFunc(func() { a.out.println("##[endgroup]") })
}

func (a *AzureDevOps) Info(msg string) {
	lines := splitLines(a.masks.mask(msg))
	for i, l := range lines {
		lines[i] = adoPlainLine(l)
	}
	a.out.println(lines...)
}

func (a *AzureDevOps) Warning(msg, file string) { a.issue("warning", msg, file) }
func (a *AzureDevOps) Error(msg, file string)   { a.issue("error", msg, file) }

func (a *AzureDevOps) issue(kind, msg, file string) {
	props := "type=" + kind
	if file != "" {
		props += ";sourcepath=" + adoEscapeProperty(a.masks.mask(file))
	}
	a.out.println("##vso[task.logissue " + props + "]" + adoEscapeData(a.masks.mask(msg)))
}

func (a *AzureDevOps) Progress(percent int, msg string) {
	a.out.println(fmt.Sprintf("##vso[task.setprogress value=%d;]%s", clampPercent(percent), adoEscapeData(a.masks.mask(msg))))
}

// SetOutput sets an output variable. A value holding a registered secret is
// set as a secret variable (the agent masks it and keeps it out of the
// environment of later steps) instead of being replaced by ***.
func (a *AzureDevOps) SetOutput(name, value string) error {
	if !validOutputName(name) {
		return fmt.Errorf("set output %q: name must be letters, digits, '_', '-' or '.', starting with a letter", name)
	}
	props := "variable=" + name + ";isOutput=true"
	if a.masks.holdsSecret(value) {
		props += ";issecret=true"
	}
	// Escaped but not defused: the value must arrive unchanged, and with
	// ']' escaped it cannot close a second command.
	a.out.println("##vso[task.setvariable " + props + "]" + adoEscapeProperty(value))
	return nil
}

func (a *AzureDevOps) SetSecret(value string) {
	for _, s := range a.masks.add(value) {
		a.out.println("##vso[task.setsecret]" + adoEscapeProperty(s))
	}
}

// Summary writes markdown to a new file in the agent's temp directory and
// asks the agent to attach it to the run's summary.
func (a *AzureDevOps) Summary(markdown string) error {
	if a.tempDir == "" {
		return fmt.Errorf("write summary: AGENT_TEMPDIRECTORY is not set")
	}
	f, err := os.CreateTemp(a.tempDir, "ppalm-summary-*.md")
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	_, werr := f.WriteString(a.masks.mask(markdown))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write summary %s: %w", f.Name(), werr)
	}
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return fmt.Errorf("write summary %s: %w", f.Name(), err)
	}
	a.out.println("##vso[task.uploadsummary]" + adoEscapeProperty(path))
	return nil
}

func (a *AzureDevOps) Complete(failed bool, msg string) {
	result := "Succeeded"
	if failed {
		result = "Failed"
	}
	a.out.println("##vso[task.complete result=" + result + ";]" + adoEscapeData(a.masks.mask(msg)))
}

// Debug writes a ##[debug] line: the agent shows it styled as debug output.
func (a *AzureDevOps) Debug(msg string) {
	lines := splitLines(a.masks.mask(msg))
	for i, l := range lines {
		lines[i] = "##[debug]" + defuseADO(l)
	}
	a.out.println(lines...)
}
