package connection

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ftrack-operator/ftrack-operator/api/v1alpha1"
)

// Object is the part of FtrackConnection and ClusterFtrackConnection that opening a
// session needs.
type Object struct {
	// Key names the connection object.
	Key Key
	// Settings are its settings.
	Settings *v1alpha1.ConnectionSettings
	// SecretNamespace and SecretName locate its credentials Secret, Keys name the keys in
	// it.
	SecretNamespace, SecretName string
	Keys                        v1alpha1.SecretKeys
}

// ObjectOf returns the Object of an FtrackConnection or ClusterFtrackConnection, or false.
func ObjectOf(obj client.Object) (Object, bool) {
	switch o := obj.(type) {
	case *v1alpha1.FtrackConnection:
		return Object{
			Key:      Key{Kind: KindFtrackConnection, Namespace: o.Namespace, Name: o.Name},
			Settings: &o.Spec.ConnectionSettings, SecretNamespace: o.Namespace, SecretName: o.Spec.SecretRef.Name, Keys: o.Spec.SecretRef.SecretKeys,
		}, true
	case *v1alpha1.ClusterFtrackConnection:
		return Object{
			Key:      Key{Kind: KindClusterFtrackConnection, Name: o.Name},
			Settings: &o.Spec.ConnectionSettings, SecretNamespace: o.Spec.SecretRef.Namespace, SecretName: o.Spec.SecretRef.Name, Keys: o.Spec.SecretRef.SecretKeys,
		}, true
	}
	return Object{}, false
}

// CredentialsError says why credentials cannot be read. Reason is a condition reason of the
// connection; Terminal says that only a change of the spec or the Secret helps; Err, when
// set, is a failure to read (retried with back-off). It never holds a credential.
type CredentialsError struct {
	Reason   string
	Message  string
	Terminal bool
	Err      error
}

// Error implements error.
func (e *CredentialsError) Error() string { return e.Message }

// Unwrap returns the read failure, if any.
func (e *CredentialsError) Unwrap() error { return e.Err }

// LoadCredentials reads the API user and key of o from its Secret, and its CA bundle, through
// r. White space around the user and the key is removed; trimmed names the Secret keys it was
// removed from. Errors are *CredentialsError.
func LoadCredentials(ctx context.Context, r client.Reader, o Object) (creds Credentials, trimmed []string, err error) {
	var secret corev1.Secret
	ref := types.NamespacedName{Namespace: o.SecretNamespace, Name: o.SecretName}
	if err := r.Get(ctx, ref, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return Credentials{}, nil, &CredentialsError{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %s not found.", ref)}
		}
		return Credentials{}, nil, &CredentialsError{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("Secret %s cannot be read.", ref), Err: fmt.Errorf("reading Secret %s: %w", ref, err)}
	}
	key := o.Keys.APIKey()
	creds.APIKey = strings.TrimSpace(string(secret.Data[key]))
	if creds.APIKey != string(secret.Data[key]) {
		trimmed = append(trimmed, key)
	}
	if creds.APIKey == "" {
		return Credentials{}, nil, &CredentialsError{Reason: v1alpha1.ReasonSecretKeyMissing, Message: fmt.Sprintf("Secret %s has no key %q (the API key).", ref, key)}
	}
	creds.APIUser = o.Settings.APIUser
	if creds.APIUser == "" {
		userKey := o.Keys.APIUser()
		creds.APIUser = strings.TrimSpace(string(secret.Data[userKey]))
		if creds.APIUser != string(secret.Data[userKey]) {
			trimmed = append(trimmed, userKey)
		}
		if creds.APIUser == "" {
			return Credentials{}, nil, &CredentialsError{Reason: v1alpha1.ReasonSecretKeyMissing, Message: fmt.Sprintf("Secret %s has no key %q (the API user) and spec.apiUser is empty.", ref, userKey)}
		}
	}
	if o.Settings.TLS != nil && o.Settings.TLS.CABundleRef != nil {
		pem, err := loadCABundle(ctx, r, o.SecretNamespace, o.Settings.TLS.CABundleRef)
		if err != nil {
			return Credentials{}, nil, err
		}
		creds.CAPEM = pem
	}
	return creds, trimmed, nil
}

// loadCABundle reads the PEM bundle a CABundleReference names.
func loadCABundle(ctx context.Context, r client.Reader, namespace string, ref *v1alpha1.CABundleReference) ([]byte, error) {
	name := types.NamespacedName{Namespace: namespace, Name: ref.Name}
	var data []byte
	var err error
	switch ref.Kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err = r.Get(ctx, name, &cm); err == nil {
			data = []byte(cm.Data[ref.BundleKey()])
			if len(data) == 0 {
				data = cm.BinaryData[ref.BundleKey()]
			}
		}
	default:
		var s corev1.Secret
		if err = r.Get(ctx, name, &s); err == nil {
			data = s.Data[ref.BundleKey()]
		}
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &CredentialsError{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("CA bundle %s %s not found.", ref.Kind, name)}
		}
		return nil, &CredentialsError{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf("CA bundle %s %s cannot be read.", ref.Kind, name), Err: err}
	}
	if len(data) == 0 {
		return nil, &CredentialsError{Reason: v1alpha1.ReasonSecretKeyMissing, Message: fmt.Sprintf("CA bundle %s %s has no key %q.", ref.Kind, name, ref.BundleKey())}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return nil, &CredentialsError{Reason: v1alpha1.ReasonInvalidTLS, Message: fmt.Sprintf("CA bundle %s %s key %q holds no PEM certificate.", ref.Kind, name, ref.BundleKey()), Terminal: true}
	}
	return data, nil
}

// Fingerprint hashes what a session of o depends on: everything (all: to know when to
// replace it) and the credentials alone (creds: to tell a rotation from a settings change).
// Only hashes are kept.
func Fingerprint(o Object, c Credentials) (all, creds string) {
	settings, _ := json.Marshal(o.Settings)
	h := sha256.New()
	h.Write([]byte(c.APIUser + "\x00" + c.APIKey + "\x00"))
	h.Write(c.CAPEM)
	creds = hex.EncodeToString(h.Sum(nil))
	h.Write(settings)
	all = hex.EncodeToString(h.Sum(nil))
	return all, creds
}
