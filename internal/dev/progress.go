package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ftrackv1alpha1 "github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// readiness is the Ready state of one object, as kstatus would judge it: the Ready condition is
// True and describes the current generation.
type readiness struct {
	obj     trackedObject
	ready   bool
	reason  string
	message string
}

func (r readiness) String() string {
	switch {
	case r.reason == "" && r.message == "":
		return r.obj.String() + ": no Ready condition yet"
	case r.message == "":
		return fmt.Sprintf("%s: %s", r.obj, r.reason)
	default:
		return fmt.Sprintf("%s: %s: %s", r.obj, r.reason, r.message)
	}
}

// readinessOf reads the Ready condition of an object of one of the operator's kinds.
func readinessOf(obj *unstructured.Unstructured, t trackedObject) readiness {
	r := readiness{obj: t}
	gen := obj.GetGeneration()
	observed, found, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cm, ok := c.(map[string]any)
		if !ok || cm["type"] != ftrackv1alpha1.ConditionReady {
			continue
		}
		r.reason, _ = cm["reason"].(string)
		r.message, _ = cm["message"].(string)
		condGen, _, _ := unstructured.NestedInt64(cm, "observedGeneration")
		staleGen := int64(-1)
		switch {
		case found && observed != gen:
			staleGen = observed
		case condGen != 0 && condGen != gen:
			staleGen = condGen
		}
		r.ready = cm["status"] == "True" && staleGen < 0
		if staleGen >= 0 && cm["status"] == "True" {
			r.reason, r.message = "Stale", fmt.Sprintf("Ready describes generation %d, the object is at %d", staleGen, gen)
		}
	}
	return r
}

// devState is one reading of every tracked object.
type devState struct {
	ready, total int
	byKind       map[string][2]int // kind → ready, total
	notReady     []readiness
}

func (s devState) allReady() bool { return s.total > 0 && s.ready == s.total }

// summary is one progress line, without the time.
func (s devState) summary() string {
	var kinds []string
	for _, k := range []string{"FtrackConnection", "ClusterFtrackConnection", "FtrackEntity"} {
		if n, ok := s.byKind[k]; ok {
			kinds = append(kinds, fmt.Sprintf("%s %d/%d", k, n[0], n[1]))
		}
	}
	return fmt.Sprintf("%d/%d Ready (%s)", s.ready, s.total, strings.Join(kinds, ", "))
}

// transientReasons are the not-Ready reasons of a sample on its way: the progress output names
// only objects held up by something else.
var transientReasons = map[string]bool{
	"":                                      true, // not reconciled yet
	"Pending":                               true, // not applied yet (depends-on)
	ftrackv1alpha1.ReasonReferenceNotReady:  true,
	ftrackv1alpha1.ReasonConnectionNotReady: true,
	ftrackv1alpha1.ReasonConnecting:         true,
}

// devProgress polls the tracked objects and prints a line when their readiness changes.
type devProgress struct {
	k8s     client.Client
	objs    []trackedObject
	out     io.Writer
	start   time.Time
	last    string
	lastNot string
}

func newDevProgress(k8s client.Client, objs []trackedObject, out io.Writer) *devProgress {
	return &devProgress{k8s: k8s, objs: objs, out: out, start: time.Now()}
}

// poll reads every tracked object once and prints a progress line if anything changed.
// waiting names the objects not applied yet and what each waits for.
func (p *devProgress) poll(ctx context.Context, waiting map[trackedObject]string) (devState, error) {
	s := devState{total: len(p.objs), byKind: map[string][2]int{}}
	var errs []error
	for _, t := range p.objs {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(schema.GroupVersionKind{Group: ftrackv1alpha1.GroupVersion.Group, Version: ftrackv1alpha1.GroupVersion.Version, Kind: t.kind})
		err := p.k8s.Get(ctx, client.ObjectKey{Namespace: t.namespace, Name: t.name}, obj)
		var r readiness
		switch {
		case apierrors.IsNotFound(err) && waiting[t] != "":
			r = readiness{obj: t, reason: "Pending", message: "applied once " + waiting[t] + " is Ready (" + annotationDependsOn + ")"}
		case apierrors.IsNotFound(err):
			r = readiness{obj: t, reason: "NotFound", message: "the object does not exist (deleted?)"}
		case err != nil:
			errs = append(errs, err)
			r = readiness{obj: t, reason: "Unreadable", message: err.Error()}
		default:
			r = readinessOf(obj, t)
		}
		n := s.byKind[t.kind]
		n[1]++
		if r.ready {
			s.ready++
			n[0]++
		} else {
			s.notReady = append(s.notReady, r)
		}
		s.byKind[t.kind] = n
	}
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	line := s.summary()
	if line != p.last {
		p.last = line
		_, _ = fmt.Fprintf(p.out, "[%4ds] %s\n", int(time.Since(p.start).Seconds()), line)
	}
	// Name what is still waiting once it settles into a reason, so a stuck sample is visible
	// without kubectl.
	var stuck []string
	for _, r := range s.notReady {
		if !transientReasons[r.reason] {
			stuck = append(stuck, "  "+r.String())
		}
	}
	if not := strings.Join(stuck, "\n"); not != p.lastNot {
		p.lastNot = not
		if not != "" {
			_, _ = fmt.Fprintf(p.out, "       not Ready:\n%s\n", not)
		}
	}
	return s, nil
}

// notReadyError is the failure of --until-ready: the objects that did not become Ready.
type notReadyError struct {
	timeout  time.Duration
	notReady []readiness
}

func (e *notReadyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d samples are not Ready after %s:", len(e.notReady), e.timeout)
	for _, r := range e.notReady {
		b.WriteString("\n  ")
		b.WriteString(r.String())
	}
	return b.String()
}
