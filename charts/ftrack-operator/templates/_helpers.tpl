{{/* The prefix of every object's name: the release name, with the chart's name appended
unless the release name already contains it (release "ftrack-operator" gives the names of
config/default). */}}
{{- define "ftrack-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ftrack-operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ftrack-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The manager's pods: what the Deployment, the Services and the PodDisruptionBudget select. */}}
{{- define "ftrack-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "ftrack-operator.serviceAccountName" -}}
{{ include "ftrack-operator.fullname" . }}-controller-manager
{{- end -}}

{{- define "ftrack-operator.webhookServiceName" -}}
{{ include "ftrack-operator.fullname" . }}-webhook-service
{{- end -}}

{{- define "ftrack-operator.webhookSecretName" -}}
{{ include "ftrack-operator.fullname" . }}-webhook-server-cert
{{- end -}}

{{- define "ftrack-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* Fails the render when the install mode and the namespaces disagree; values.schema.json
says the same, this also covers `helm template --skip-schema-validation`. */}}
{{- define "ftrack-operator.checkMode" -}}
{{- if and (eq .Values.installMode "namespaced") (empty .Values.watchNamespaces) -}}
{{- fail "installMode namespaced needs watchNamespaces: the namespaces whose FtrackConnections, FtrackEntities and Secrets the operator may read" -}}
{{- end -}}
{{- if and (eq .Values.installMode "cluster") (not (empty .Values.watchNamespaces)) -}}
{{- fail "watchNamespaces is for installMode namespaced; the cluster install watches every namespace" -}}
{{- end -}}
{{- end -}}
