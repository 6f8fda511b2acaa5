// Package kubernetes holds the agent's Kubernetes manifests and the test that
// checks them: every file is decoded strictly into the Kubernetes API types
// (an unknown or misspelt field fails, as `kubectl apply --validate=strict`
// would), then the invariants no schema can see are checked: the probes and
// the Service reach the port the agent listens on, the mounts match the
// volumes, the token lands where the image looks for it, the agent's flags
// are the contract's, and the DaemonSet's arguments are the image's CMD.
//
// It is a module of its own so that the main module does not depend on the
// Kubernetes API types; run it with `make test-deploy-manifests`.
package kubernetes

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const (
	namespace   = "dockman"
	dockerfile  = "../../Dockerfile"
	exampleFile = "secret.example.yaml"
	kustomize   = "kustomization.yaml"
)

// strictDecoder decodes YAML or JSON into the typed object its apiVersion
// and kind name, failing on unknown and duplicate fields.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatalf("building the scheme: %v", err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// manifests is every object in this directory, by file name.
type manifests struct {
	namespace      *corev1.Namespace
	serviceAccount *corev1.ServiceAccount
	secret         *corev1.Secret // the example
	daemonSet      *appsv1.DaemonSet
	service        *corev1.Service
	files          map[string]runtime.Object
}

func load(t *testing.T) *manifests {
	t.Helper()
	dec := strictDecoder(t)
	names, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{files: map[string]runtime.Object{}}
	for _, name := range names {
		if name == kustomize {
			continue // not a Kubernetes API object: see TestKustomization
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "\n---") {
			t.Fatalf("%s: one object per file, please", name)
		}
		obj, gvk, err := dec.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("%s: strict decoding: %v", name, err)
		}
		m.files[name] = obj
		switch o := obj.(type) {
		case *corev1.Namespace:
			m.namespace = o
		case *corev1.ServiceAccount:
			m.serviceAccount = o
		case *corev1.Secret:
			m.secret = o
		case *appsv1.DaemonSet:
			m.daemonSet = o
		case *corev1.Service:
			m.service = o
		default:
			t.Fatalf("%s: unexpected kind %s", name, gvk)
		}
	}
	if m.namespace == nil || m.serviceAccount == nil || m.secret == nil || m.daemonSet == nil || m.service == nil {
		t.Fatalf("want a Namespace, a ServiceAccount, a Secret example, a DaemonSet and a Service; have %v", names)
	}
	return m
}

func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	// The decoder the other tests trust must refuse a misspelt field and a
	// field given twice; otherwise they would pass on anything.
	dec := strictDecoder(t)
	data, err := os.ReadFile("daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"misspelt", "imagePullPolicy:", "imagePulPolicy:"},
		{"misplaced", "  minReadySeconds: 5", "  minReadySeconds: 5\n  terminationGracePeriodSeconds: 3"},
		{"duplicate", "  minReadySeconds: 5", "  minReadySeconds: 5\n  minReadySeconds: 6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(data), tc.from, tc.to, 1)
			if bad == string(data) {
				t.Fatalf("daemonset.yaml has no %q to break", tc.from)
			}
			if _, _, err := dec.Decode([]byte(bad), nil, nil); err == nil {
				t.Fatalf("a DaemonSet with %q decoded without error", tc.to)
			}
		})
	}
}

func TestManifests(t *testing.T) {
	m := load(t)
	for name, obj := range m.files {
		meta, ok := obj.(metav1.Object)
		if !ok {
			t.Fatalf("%s: no object metadata", name)
		}
		if obj == m.namespace {
			if meta.GetName() != namespace {
				t.Errorf("%s: namespace %q, want %q", name, meta.GetName(), namespace)
			}
			continue
		}
		if meta.GetNamespace() != namespace {
			t.Errorf("%s: in namespace %q, want %q", name, meta.GetNamespace(), namespace)
		}
	}
}

func TestKustomization(t *testing.T) {
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	data, err := os.ReadFile(kustomize)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatalf("%s: %v", kustomize, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s: %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", kustomize, k.APIVersion, k.Kind)
	}
	names, _ := filepath.Glob("*.yaml")
	var want []string
	for _, n := range names {
		if n != kustomize && n != exampleFile {
			want = append(want, n)
		}
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("%s lists %v, want every manifest but the example Secret: %v", kustomize, got, want)
	}
}

func TestDaemonSet(t *testing.T) {
	m := load(t)
	ds := m.daemonSet
	pod := ds.Spec.Template.Spec

	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		t.Fatalf("selector: %v", err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("the selector %s does not select the pod template's labels %v", sel, ds.Spec.Template.Labels)
	}
	if pod.ServiceAccountName != m.serviceAccount.Name {
		t.Errorf("serviceAccountName %q, the ServiceAccount is %q", pod.ServiceAccountName, m.serviceAccount.Name)
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds < 10 {
		t.Errorf("terminationGracePeriodSeconds %v: want at least 10 s for a clean stop", pod.TerminationGracePeriodSeconds)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want the agent alone", len(pod.Containers))
	}
	c := pod.Containers[0]

	// The arguments: the contract's flags, and the image's own CMD, so
	// that the pod runs the agent exactly as `docker run dockman` does.
	flags, err := parseAgentArgs(c.Args)
	if err != nil {
		t.Fatalf("args %q: %v", c.Args, err)
	}
	image := readDockerfile(t)
	if len(c.Command) != 0 {
		t.Errorf("command %q replaces the image's entrypoint %q", c.Command, image.entrypoint)
	}
	if !slices.Equal(c.Args, image.cmd) {
		t.Errorf("args %q differ from the Dockerfile's CMD %q", c.Args, image.cmd)
	}

	// The port the agent listens on is the container's port, the probes'
	// and the scrape annotation's.
	apiPort := portOf(t, flags["--api"])
	var http *corev1.ContainerPort
	for i, p := range c.Ports {
		if p.ContainerPort == apiPort {
			http = &c.Ports[i]
		}
		if p.HostPort != 0 {
			t.Errorf("port %d has hostPort %d: two pods of one node (maxSurge) cannot both bind it", p.ContainerPort, p.HostPort)
		}
	}
	if http == nil {
		t.Fatalf("no container port %d (the agent's --api %s) among %v", apiPort, flags["--api"], c.Ports)
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe of %s", pr.name, pr.path)
			continue
		}
		if pr.probe.HTTPGet.Path != pr.path {
			t.Errorf("%s: path %q, want %q", pr.name, pr.probe.HTTPGet.Path, pr.path)
		}
		if got := resolvePort(pr.probe.HTTPGet.Port, c); got != apiPort {
			t.Errorf("%s: port %s is %d in the container, the agent listens on %d", pr.name, pr.probe.HTTPGet.Port.String(), got, apiPort)
		}
	}
	ann := ds.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(int(apiPort)) {
		t.Errorf("prometheus annotations %v: want scrape \"true\", path /metrics, port %d", ann, apiPort)
	}

	// Mounts and volumes: each mount names a volume, each volume is
	// mounted, and the directories the flags name are the mounted ones.
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{} // by mount path
	used := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		if _, ok := volumes[vm.Name]; !ok {
			t.Errorf("volumeMount %q at %s: no such volume", vm.Name, vm.MountPath)
		}
		used[vm.Name] = true
		mounts[vm.MountPath] = vm
	}
	for name := range volumes {
		if !used[name] {
			t.Errorf("volume %q is not mounted", name)
		}
	}
	hostPathAt := func(mountPath string) *corev1.HostPathVolumeSource {
		vm, ok := mounts[mountPath]
		if !ok {
			t.Errorf("nothing is mounted at %s", mountPath)
			return nil
		}
		hp := volumes[vm.Name].HostPath
		if hp == nil {
			t.Errorf("%s: volume %q is not a hostPath", mountPath, vm.Name)
		}
		if vm.ReadOnly {
			t.Errorf("%s is mounted read-only: the agent writes there", mountPath)
		}
		return hp
	}
	if hp := hostPathAt("/var/run/docker.sock"); hp != nil && (hp.Path != "/var/run/docker.sock" || hp.Type == nil || *hp.Type != corev1.HostPathSocket) {
		t.Errorf("the engine's socket: hostPath %s type %v, want /var/run/docker.sock, Socket", hp.Path, hp.Type)
	}
	for _, flag := range []string{"--state-dir", "--log-dir"} {
		dir := flags[flag]
		if dir == "" {
			t.Errorf("no %s: the agent would write inside the read-only image", flag)
			continue
		}
		// On the node: it outlives the pod, and the old and new pods of a
		// surge update share it (the lock handover).
		if hp := hostPathAt(dir); hp != nil && (hp.Type == nil || *hp.Type != corev1.HostPathDirectoryOrCreate) {
			t.Errorf("%s %s: hostPath type %v, want DirectoryOrCreate", flag, dir, hp.Type)
		}
	}

	// The token: where the image's DOCKMAN_API_TOKEN_FILE says, from the
	// key the example Secret holds.
	tokenFile := image.env["DOCKMAN_API_TOKEN_FILE"]
	for _, e := range c.Env {
		if e.Name == "DOCKMAN_API_TOKEN_FILE" {
			tokenFile = e.Value
		}
	}
	if f, ok := flags["--api-token-file"]; ok {
		tokenFile = f
	}
	if tokenFile == "" {
		t.Fatal("no token file: a non-loopback --api needs a token (the agent exits 2)")
	}
	vm, ok := mounts[path.Dir(tokenFile)]
	if !ok {
		t.Fatalf("the token file %s: nothing is mounted at %s", tokenFile, path.Dir(tokenFile))
	}
	sv := volumes[vm.Name].Secret
	if sv == nil {
		t.Fatalf("the token file %s: volume %q is not a secret", tokenFile, vm.Name)
	}
	if sv.SecretName != m.secret.Name {
		t.Errorf("the token's volume uses Secret %q, the example is %q", sv.SecretName, m.secret.Name)
	}
	found := false
	for _, it := range sv.Items {
		if it.Path == path.Base(tokenFile) {
			found = true
			if _, ok := m.secret.StringData[it.Key]; !ok {
				t.Errorf("the token comes from key %q, the example Secret has %v", it.Key, m.secret.StringData)
			}
		}
	}
	if !found {
		t.Errorf("the token's volume puts no item at %s (items %v)", path.Base(tokenFile), sv.Items)
	}

	// What the container may do, and what it gets.
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		(sc.Privileged != nil && *sc.Privileged) {
		t.Errorf("securityContext %+v: want readOnlyRootFilesystem, no privilege escalation, not privileged", sc)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim {
			t.Errorf("resources: want a request and a limit of %s, have %+v", r, c.Resources)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("resources: %s request %s above its limit %s", r, req.String(), lim.String())
		}
	}

	// The update: a surge (the new pod waits for the lock beside the old
	// one, then takes over), never a node without an agent.
	us := ds.Spec.UpdateStrategy
	if us.Type != appsv1.RollingUpdateDaemonSetStrategyType || us.RollingUpdate == nil {
		t.Fatalf("updateStrategy %+v: want RollingUpdate", us)
	}
	if v := us.RollingUpdate.MaxUnavailable; v == nil || v.String() != "0" {
		t.Errorf("maxUnavailable %v: want 0 (no node ever without an agent)", v)
	}
	if v := us.RollingUpdate.MaxSurge; v == nil || v.String() == "0" || v.String() == "0%" {
		t.Errorf("maxSurge %v: want at least 1 (with maxUnavailable 0, Kubernetes requires it)", v)
	}
}

func TestService(t *testing.T) {
	m := load(t)
	svc, ds := m.service, m.daemonSet
	if len(svc.Spec.Selector) == 0 {
		t.Fatal("the Service selects nothing")
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("the Service's selector %v does not select the DaemonSet's pods %v", svc.Spec.Selector, ds.Spec.Template.Labels)
	}
	c := ds.Spec.Template.Spec.Containers[0]
	flags, err := parseAgentArgs(c.Args)
	if err != nil {
		t.Fatal(err)
	}
	apiPort := portOf(t, flags["--api"])
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("ports %v: want the API's alone", svc.Spec.Ports)
	}
	if got := resolvePort(svc.Spec.Ports[0].TargetPort, c); got != apiPort {
		t.Errorf("targetPort %s is %d in the container, the agent listens on %d", svc.Spec.Ports[0].TargetPort.String(), got, apiPort)
	}
}

// resolvePort is the container port a probe's or a Service's port means: a
// number, or the name of one of the container's ports.
func resolvePort(p intstr.IntOrString, c corev1.Container) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return -1
}

// portOf is the port of an --api address such as ":8080".
func portOf(t *testing.T, addr string) int32 {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	n, err := strconv.ParseUint(addr[i+1:], 10, 16)
	if i < 0 || err != nil || n == 0 {
		t.Fatalf("--api %q: want HOST:PORT", addr)
	}
	return int32(n)
}

// agentFlags are `dockman agent`'s flags as the contract (issue 9) gives
// them: whether each takes a value, and the values it allows (nil: any).
var agentFlags = map[string]struct {
	value   bool
	allowed []string
}{
	"-H": {value: true}, "--host": {value: true},
	"--state-dir": {value: true}, "--log-dir": {value: true},
	"--log-max-size": {value: true}, "--log-max-files": {value: true},
	"--no-logs": {}, "--scope": {value: true}, "--stop-timeout": {value: true},
	"--api": {value: true}, "--api-token-file": {value: true}, "--enforce": {},
	"--log-format": {value: true, allowed: []string{"text", "json"}},
	"--log-level":  {value: true, allowed: []string{"debug", "info", "warn", "error"}},
}

// parseAgentArgs checks args as `dockman agent` would read them and returns
// the flags given (the last value of each; "" for a switch).
func parseAgentArgs(args []string) (map[string]string, error) {
	if len(args) == 0 || args[0] != "agent" {
		return nil, fmt.Errorf("want the agent command first")
	}
	got := map[string]string{}
	for i := 1; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		f, ok := agentFlags[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%q is not a flag of dockman agent", args[i])
		case !f.value && hasValue:
			return nil, fmt.Errorf("%s takes no value", name)
		case f.value && !hasValue:
			if i+1 == len(args) {
				return nil, fmt.Errorf("%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if f.allowed != nil && !slices.Contains(f.allowed, value) {
			return nil, fmt.Errorf("%s %q: want one of %v", name, value, f.allowed)
		}
		if name == "--scope" && !strings.Contains(value, "=") {
			return nil, fmt.Errorf("--scope %q: want label=value", value)
		}
		got[name] = value
	}
	return got, nil
}

func TestParseAgentArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"agent", "--api", ":8080", "--enforce", "--scope", "a=b"}, true},
		{[]string{"agent", "--log-format=json", "--no-logs"}, true},
		{[]string{"--api", ":8080"}, false},
		{[]string{"agent", "--enforce=true"}, false},
		{[]string{"agent", "--api"}, false},
		{[]string{"agent", "--apii", ":8080"}, false},
		{[]string{"agent", "--log-format", "xml"}, false},
		{[]string{"agent", "--scope", "a"}, false},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			_, err := parseAgentArgs(tc.args)
			if (err == nil) != tc.ok {
				t.Errorf("parseAgentArgs(%q) = %v, want ok %v", tc.args, err, tc.ok)
			}
		})
	}
}

// image is what the Dockerfile says about how the agent runs.
type image struct {
	entrypoint, cmd []string
	env             map[string]string
}

// readDockerfile reads ENTRYPOINT, CMD (exec form) and ENV KEY=VALUE lines of
// the repository's Dockerfile.
func readDockerfile(t *testing.T) image {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	img := image{env: map[string]string{}}
	for _, line := range strings.Split(string(data), "\n") {
		instr, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(instr) {
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("%s: %s is not in exec form: %v", dockerfile, instr, err)
			}
			if strings.ToUpper(instr) == "CMD" {
				img.cmd = v
			} else {
				img.entrypoint = v
			}
		case "ENV":
			k, v, ok := strings.Cut(strings.TrimSpace(rest), "=")
			if !ok {
				t.Fatalf("%s: ENV %q: want KEY=VALUE", dockerfile, rest)
			}
			img.env[k] = v
		}
	}
	if len(img.cmd) == 0 || len(img.entrypoint) == 0 {
		t.Fatalf("%s: no ENTRYPOINT or CMD", dockerfile)
	}
	return img
}
