// health-check reads rampart objects from a Kubernetes API server and prints, one JSON line per
// object, how GitOps tools judge their health:
//
//   - kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status), which Flux, `kubectl wait`-style
//     tooling and cli-utils appliers use: Current, InProgress, Failed, Terminating, ...
//   - Argo CD's health Lua from an argocd-cm snippet, run the way Argo CD runs it: gopher-lua
//     with only the package, base and table libraries, the object as the global `obj`, and the
//     returned table's `status` checked against Argo CD's health codes.
//
// Usage:
//
//	health-check --kubeconfig FILE --namespace NS [--selector LABELS] [--argocd-cm FILE]
//
// Cluster-scoped kinds are listed across the cluster, so give a selector to pick test objects.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

type kind struct {
	name       string
	resource   string
	namespaced bool
}

var kinds = []kind{
	{"ProviderConfig", "providerconfigs", true},
	{"ClusterProviderConfig", "clusterproviderconfigs", false},
	{"Vault", "vaults", true},
	{"Policy", "policies", true},
	{"Strategy", "strategies", true},
	{"FirewallRule", "firewallrules", true},
}

// verdict is one output line.
type verdict struct {
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	KStatus        string `json:"kstatus"`
	KStatusMessage string `json:"kstatusMessage"`
	ArgoCD         string `json:"argocd,omitempty"`
	ArgoCDMessage  string `json:"argocdMessage,omitempty"`
}

// Argo CD's health status codes; anything else from a script is reported as Unknown.
var argoHealthCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the API server")
	namespace := flag.String("namespace", "", "namespace of the namespaced objects")
	selector := flag.String("selector", "", "label selector for every list")
	argoCM := flag.String("argocd-cm", "", "argocd-cm ConfigMap (or patch) holding the health Lua")
	flag.Parse()
	if *kubeconfig == "" || *namespace == "" {
		fmt.Fprintln(os.Stderr, "--kubeconfig and --namespace are required")
		os.Exit(2)
	}
	scripts := map[string]string{}
	if *argoCM != "" {
		var err error
		if scripts, err = healthScripts(*argoCM); err != nil {
			fail(err)
		}
	}
	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := json.NewEncoder(os.Stdout)
	for _, k := range kinds {
		gvr := schema.GroupVersionResource{Group: "rampart.dev", Version: "v1alpha1", Resource: k.resource}
		var ri dynamic.ResourceInterface = client.Resource(gvr)
		if k.namespaced {
			ri = client.Resource(gvr).Namespace(*namespace)
		}
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: *selector})
		if err != nil {
			fail(fmt.Errorf("list %s: %w", k.resource, err))
		}
		for i := range list.Items {
			v, err := judge(&list.Items[i], k.name, scripts)
			if err != nil {
				fail(err)
			}
			if err := out.Encode(v); err != nil {
				fail(err)
			}
		}
	}
}

func judge(obj *unstructured.Unstructured, kindName string, scripts map[string]string) (verdict, error) {
	v := verdict{Kind: kindName, Name: obj.GetName()}
	res, err := status.Compute(obj)
	if err != nil {
		return v, fmt.Errorf("kstatus of %s/%s: %w", kindName, obj.GetName(), err)
	}
	v.KStatus, v.KStatusMessage = res.Status.String(), res.Message
	if len(scripts) == 0 {
		return v, nil
	}
	script, ok := scripts["rampart.dev_"+kindName]
	if !ok {
		return v, fmt.Errorf("argocd-cm has no health check for rampart.dev/%s", kindName)
	}
	v.ArgoCD, v.ArgoCDMessage, err = argoHealth(obj, script)
	if err != nil {
		return v, fmt.Errorf("argo cd health of %s/%s: %w", kindName, obj.GetName(), err)
	}
	return v, nil
}

// healthScripts reads `resource.customizations.health.<group>_<Kind>` keys of an argocd-cm
// ConfigMap. YAML anchors and aliases (one script shared by every kind) are resolved here as
// kubectl resolves them.
func healthScripts(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	const prefix = "resource.customizations.health."
	scripts := map[string]string{}
	for key, value := range cm.Data {
		if len(key) > len(prefix) && key[:len(prefix)] == prefix {
			scripts[key[len(prefix):]] = value
		}
	}
	return scripts, nil
}

// argoHealth runs a health script with the libraries and limits Argo CD gives it.
func argoHealth(obj *unstructured.Unstructured, script string) (string, string, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), Protect: true}, lua.LString(name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	result, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", l.Get(-1).Type())
	}
	code := lua.LVAsString(result.RawGetString("status"))
	message := lua.LVAsString(result.RawGetString("message"))
	if !argoHealthCodes[code] {
		return "Unknown", "Lua returned an invalid health status " + code, nil
	}
	return code, message, nil
}

// toLua converts decoded JSON (as unstructured holds it) into Lua values: maps become tables
// keyed by string, lists become tables indexed from 1.
func toLua(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []interface{}:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(v))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "health-check:", err)
	os.Exit(1)
}
