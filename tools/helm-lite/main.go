// Command helm-lite renders a Helm chart the way `helm template` does, for tests on machines
// without a helm binary (see docs/helm-chart.md and environment.md §7).
//
// It uses Go text/template with sprig (the library Helm uses) plus Helm's own functions: include,
// tpl, required, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray and lookup. The
// objects lookup sees come from an optional file (-objects), so that tests can simulate what is
// already in a cluster; without it lookup returns an empty map, exactly like `helm template`.
//
// Not supported: subcharts and dependencies, .Files, --set, hooks, and values.schema.json
// validation (the chart tests validate values against the schema themselves).
//
// Build it in GOPATH mode from Debian's packages (golang-go, golang-github-masterminds-sprig-dev,
// golang-k8s-sigs-yaml-dev); module mode would try to reach the Go proxy:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o .cache/helm-lite ./tools/helm-lite
//
// Usage:
//
//	helm-lite [-name RELEASE] [-namespace NS] [-f values.yaml]... [-objects cluster.yaml]
//	          [-kube-version v1.30.0] [-api-versions a/v1,b/v1] [-notes] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// VersionSet mirrors Helm's chartutil.VersionSet, so that templates can call
// `.Capabilities.APIVersions.Has "monitoring.coreos.com/v1"`.
type VersionSet []string

// Has reports whether the API version (or version/kind) is known to the simulated cluster.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// The API versions a stock cluster serves; -api-versions adds to them (e.g. CRD groups).
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
	"rbac.authorization.k8s.io/v1", "apiregistration.k8s.io/v1", "networking.k8s.io/v1",
	"admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "coordination.k8s.io/v1",
}

func main() {
	var valueFiles stringList
	name := flag.String("name", "release-name", "release name (.Release.Name)")
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	objects := flag.String("objects", "", "YAML file of cluster objects that lookup returns (multi-document)")
	kubeVersion := flag.String("kube-version", "v1.30.0", "Kubernetes version (.Capabilities.KubeVersion)")
	apiVersions := flag.String("api-versions", "", "extra API versions, comma-separated (.Capabilities.APIVersions)")
	notes := flag.Bool("notes", false, "render templates/NOTES.txt instead of the manifests")
	flag.Var(&valueFiles, "f", "values file (repeatable; later files win)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-lite [flags] CHART_DIR")
		flag.PrintDefaults()
		os.Exit(2)
	}
	out, err := run(flag.Arg(0), *name, *namespace, valueFiles, *objects, *kubeVersion, *apiVersions, *notes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func run(chartDir, name, namespace string, valueFiles []string, objectsFile, kubeVersion, apiVersions string, notes bool) (string, error) {
	chart, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	chartName, _ := chart["name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml: name is required")
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil && !os.IsNotExist(errors.Unwrap(err)) {
		return "", err
	}
	if values == nil {
		values = map[string]interface{}{}
	}
	for _, file := range valueFiles {
		override, err := readYAMLMap(file)
		if err != nil {
			return "", err
		}
		values = coalesce(override, values)
	}
	cluster, err := readObjects(objectsFile)
	if err != nil {
		return "", err
	}
	versions := append(VersionSet{}, builtinAPIVersions...)
	for _, v := range strings.Split(apiVersions, ",") {
		if v = strings.TrimSpace(v); v != "" {
			versions = append(versions, v)
		}
	}
	major, minor := splitKubeVersion(kubeVersion)

	// One map shared by every template, as in Helm: a template may cache a computed value (such as
	// a generated certificate) in it for the templates rendered after it.
	top := map[string]interface{}{
		"Values": values,
		"Chart":  helmChartFields(chart),
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": kubeVersion, "GitVersion": kubeVersion, "Major": major, "Minor": minor},
			"APIVersions": versions,
		},
	}

	root := template.New("helm-lite").Option("missingkey=zero")
	funcs := funcMap(root, cluster)
	root.Funcs(funcs)

	templatesDir := filepath.Join(chartDir, "templates")
	var names []string
	err = filepath.Walk(templatesDir, func(path string, info os.FileInfo, walkErr error) error {
		if walkErr != nil || info.IsDir() {
			return walkErr
		}
		rel, _ := filepath.Rel(templatesDir, path)
		tplName := chartName + "/templates/" + filepath.ToSlash(rel)
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := root.New(tplName).Parse(string(body)); err != nil {
			return fmt.Errorf("parse error in %s", cleanError(err))
		}
		names = append(names, tplName)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)

	var out strings.Builder
	for _, tplName := range names {
		base := filepath.Base(tplName)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != notes {
			continue
		}
		if !isNotes && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") && !strings.HasSuffix(base, ".tpl") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": tplName, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tplName, top); err != nil {
			return "", cleanError(err)
		}
		// Helm prints missing values as "" rather than Go's "<no value>".
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		if notes {
			out.WriteString(text)
			continue
		}
		// Like Helm, one "# Source:" header per document, also when a template renders several.
		for _, doc := range documentSeparator.Split(text, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tplName, strings.Trim(doc, "\n"))
		}
	}
	return out.String(), nil
}

// funcMap is sprig's text functions plus Helm's own, minus env and expandenv (Helm drops them so
// that a render never depends on the renderer's environment).
func funcMap(root *template.Template, cluster []map[string]interface{}) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []interface{} {
		var a []interface{}
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(message string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(message)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(message)
		}
		return v, nil
	}
	// lookup answers from the -objects file: one object by name, or {items: [...]} when name is "".
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		var items []interface{}
		for _, obj := range cluster {
			if obj["apiVersion"] != apiVersion || obj["kind"] != kind {
				continue
			}
			meta, _ := obj["metadata"].(map[string]interface{})
			if namespace != "" && meta["namespace"] != namespace {
				continue
			}
			if name == "" {
				items = append(items, obj)
			} else if meta["name"] == name {
				return obj, nil
			}
		}
		if name == "" && len(items) > 0 {
			return map[string]interface{}{"items": items}, nil
		}
		return map[string]interface{}{}, nil
	}
	return f
}

// coalesce merges user values over chart defaults the way Helm does: maps merge key by key, any
// other value replaces the default, and an explicit null deletes the default key.
func coalesce(override, base map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if v == nil {
			delete(out, k)
			continue
		}
		ov, okO := v.(map[string]interface{})
		bv, okB := out[k].(map[string]interface{})
		if okO && okB {
			out[k] = coalesce(ov, bv)
		} else {
			out[k] = v
		}
	}
	return out
}

// helmChartFields exposes Chart.yaml under Helm's capitalised names (.Chart.Name, .Chart.AppVersion).
func helmChartFields(chart map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range chart {
		if k == "apiVersion" {
			out["APIVersion"] = v
			continue
		}
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return out
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

func readObjects(path string) ([]map[string]interface{}, error) {
	if path == "" {
		return nil, nil
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objects []map[string]interface{}
	for _, doc := range documentSeparator.Split(string(body), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(obj) > 0 {
			objects = append(objects, obj)
		}
	}
	return objects, nil
}

func splitKubeVersion(v string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return "1", "30"
	}
	return parts[0], parts[1]
}

var execErrorPattern = regexp.MustCompile(`^template: (\S+?): executing "[^"]*" at <[^>]*>: error calling \w+: `)

// cleanError turns text/template's error into Helm's wording: "execution error at (file:line:col): message".
func cleanError(err error) error {
	msg := err.Error()
	if m := execErrorPattern.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("execution error at (%s): %s", m[1], strings.TrimPrefix(msg, m[0]))
	}
	return err
}
