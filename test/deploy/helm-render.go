// test/deploy/helm-render.go: a stand-in for `helm template`, because Helm is not packaged in
// Debian and the tests cannot download it. It renders deploy/helm/bindery with Go's
// text/template and implementations of the few Helm/Sprig functions the chart uses, and
// prints a multi-document YAML stream (one document per non-empty template output, in file name
// order, each headed by "# Source: CHART/templates/FILE"), like `helm template`.
//
// Supported functions (besides text/template's own: and, or, not, eq, ne, len, index, printf,
// print, ...): include, default, quote, toYaml, toJson, nindent, indent, required, trunc,
// trimSuffix, join, dict, sha256sum. toYaml emits JSON, which is valid YAML (Helm's emits block
// YAML: the text differs, the objects do not). Not supported: everything else Helm offers
// (lookup, tpl, .Files, .Capabilities, subcharts, hooks, schema validation): a chart that uses
// them fails to parse here, so the chart must keep to this subset.
//
// Usage: go run helm-render.go -chart DIR -data FILE [-release NAME] [-namespace NS] [-include-crds]
// FILE is JSON: {"Values": {...}, "Chart": {"Name": ..., "Version": ..., "AppVersion": ...}}
// (test/deploy/check-manifests.sh makes it from Chart.yaml and values.yaml with PyYAML).
// Missing keys render as empty, as in Helm. Exit status 1 on any error (a failed `required`).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/template"
)

func empty(v interface{}) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		return r.Len() == 0
	case reflect.Bool:
		return !r.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return r.Int() == 0
	case reflect.Float64, reflect.Float32:
		return r.Float() == 0
	case reflect.Ptr, reflect.Interface:
		return r.IsNil()
	}
	if n, ok := v.(json.Number); ok {
		return n.String() == "0"
	}
	return false
}

func toJSON(v interface{}) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func funcs(t **template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data interface{}) (string, error) {
			var b bytes.Buffer
			err := (*t).ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"default": func(d interface{}, given ...interface{}) interface{} {
			if len(given) == 0 || empty(given[0]) {
				return d
			}
			return given[0]
		},
		"quote": func(v ...interface{}) string {
			out := make([]string, 0, len(v))
			for _, x := range v {
				if x != nil {
					out = append(out, fmt.Sprintf("%q", fmt.Sprint(x)))
				}
			}
			return strings.Join(out, " ")
		},
		"toYaml": toJSON, // JSON is YAML
		"toJson": toJSON,
		"indent": indent,
		"nindent": func(n int, s string) string {
			return "\n" + indent(n, s)
		},
		"required": func(msg string, v interface{}) (interface{}, error) {
			if empty(v) {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"trunc": func(n int, s string) string {
			if n >= 0 && len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"join": func(sep string, v interface{}) string {
			r := reflect.ValueOf(v)
			if v == nil || (r.Kind() != reflect.Slice && r.Kind() != reflect.Array) {
				return fmt.Sprint(v)
			}
			parts := make([]string, r.Len())
			for i := range parts {
				parts[i] = fmt.Sprint(r.Index(i).Interface())
			}
			return strings.Join(parts, sep)
		},
		"dict": func(kv ...interface{}) (map[string]interface{}, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := map[string]interface{}{}
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
		"sha256sum": func(s string) string {
			h := sha256.Sum256([]byte(s))
			return hex.EncodeToString(h[:])
		},
	}
}

func main() {
	chart := flag.String("chart", "", "chart directory")
	dataFile := flag.String("data", "", "JSON file with Values and Chart")
	release := flag.String("release", "bindery", "release name")
	namespace := flag.String("namespace", "bindery-system", "release namespace")
	crds := flag.Bool("include-crds", false, "also print the chart's crds/ files")
	flag.Parse()
	if err := run(*chart, *dataFile, *release, *namespace, *crds); err != nil {
		fmt.Fprintln(os.Stderr, "helm-render:", err)
		os.Exit(1)
	}
}

func run(chart, dataFile, release, namespace string, crds bool) error {
	raw, err := os.ReadFile(dataFile)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data map[string]interface{}
	if err := dec.Decode(&data); err != nil {
		return fmt.Errorf("%s: %v", dataFile, err)
	}
	chartMeta, _ := data["Chart"].(map[string]interface{})
	name := fmt.Sprint(chartMeta["Name"])
	data["Release"] = map[string]interface{}{"Name": release, "Namespace": namespace, "Service": "Helm",
		"IsInstall": true, "IsUpgrade": false, "Revision": 1}

	var t *template.Template
	t = template.New(name).Option("missingkey=zero").Funcs(funcs(&t))
	files, err := filepath.Glob(filepath.Join(chart, "templates", "*"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var outputs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".yaml") && !strings.HasSuffix(f, ".tpl") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		tname := name + "/templates/" + filepath.Base(f)
		if _, err := t.New(tname).Parse(string(src)); err != nil {
			return err
		}
		if strings.HasSuffix(f, ".yaml") && !strings.HasPrefix(filepath.Base(f), "_") {
			outputs = append(outputs, tname)
		}
	}
	var out bytes.Buffer
	if crds {
		cf, _ := filepath.Glob(filepath.Join(chart, "crds", "*.yaml"))
		sort.Strings(cf)
		for _, f := range cf {
			src, err := os.ReadFile(f) // follows symbolic links, as Helm does
			if err != nil {
				return err
			}
			fmt.Fprintf(&out, "---\n# Source: %s/crds/%s\n%s\n", name, filepath.Base(f), strings.TrimRight(string(src), "\n"))
		}
	}
	for _, tname := range outputs {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, tname, data); err != nil {
			return err
		}
		s := strings.ReplaceAll(b.String(), "<no value>", "")
		if strings.TrimSpace(s) == "" {
			continue
		}
		// one template may hold several documents; each gets the header
		for _, doc := range strings.Split(s, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, strings.Trim(doc, "\n"))
		}
	}
	_, err = os.Stdout.Write(out.Bytes())
	return err
}
