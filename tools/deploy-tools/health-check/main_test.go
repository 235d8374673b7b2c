package main

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func object(status map[string]interface{}) *unstructured.Unstructured {
	obj := map[string]interface{}{
		"apiVersion": "rampart.dev/v1alpha1",
		"kind":       "Vault",
		"metadata":   map[string]interface{}{"name": "v", "generation": int64(2)},
	}
	if status != nil {
		obj["status"] = status
	}
	return &unstructured.Unstructured{Object: obj}
}

// Argo CD opens no string library for health scripts; a script relying on it must fail here
// as it would there.
func TestStringLibraryIsNotAvailable(t *testing.T) {
	_, _, err := argoHealth(object(nil), `return { status = string.upper("healthy") }`)
	if err == nil {
		t.Fatal("string library available; Argo CD does not provide it")
	}
}

func TestUnknownStatusCodeBecomesUnknown(t *testing.T) {
	code, message, err := argoHealth(object(nil), `return { status = "Fine" }`)
	if err != nil || code != "Unknown" || !strings.Contains(message, "Fine") {
		t.Fatalf("got %q %q %v", code, message, err)
	}
}

func TestNonTableResultIsAnError(t *testing.T) {
	if _, _, err := argoHealth(object(nil), `return "Healthy"`); err == nil {
		t.Fatal("a string result was accepted")
	}
}

// Lists arrive 1-indexed and integers as numbers, as Argo CD decodes them.
func TestObjectReachesLuaAsArgoDecodesIt(t *testing.T) {
	status := map[string]interface{}{
		"observedGeneration": int64(2),
		"conditions": []interface{}{
			map[string]interface{}{"type": "Ready", "status": "True", "message": "ok"},
		},
	}
	script := `
      if obj.status.observedGeneration == obj.metadata.generation and #obj.status.conditions == 1 then
        return { status = "Healthy", message = obj.status.conditions[1].message }
      end
      return { status = "Degraded" }`
	code, message, err := argoHealth(object(status), script)
	if err != nil || code != "Healthy" || message != "ok" {
		t.Fatalf("got %q %q %v", code, message, err)
	}
}

func TestHealthScriptsAreReadFromArgocdCm(t *testing.T) {
	scripts, err := healthScripts("../../../deploy/argocd/argocd-cm-health.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Vault", "Policy", "Strategy", "FirewallRule", "ProviderConfig", "ClusterProviderConfig"} {
		if !strings.Contains(scripts["rampart.dev_"+kind], "Degraded") {
			t.Errorf("no health script for %s (aliases resolved?)", kind)
		}
	}
}
