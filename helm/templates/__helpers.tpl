{{/* The chart's name, or nameOverride. */}}
{{- define "ml-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release> when it already contains the chart name, else <release>-<chart>. */}}
{{- define "ml-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ml-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "ml-service.labels" -}}
helm.sh/chart: {{ include "ml-service.chart" . }}
{{ include "ml-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ml-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ml-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The API pods (the MongoDB pods of mongodb.enabled carry component: mongodb). */}}
{{- define "ml-service.apiSelectorLabels" -}}
{{ include "ml-service.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "ml-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ml-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding API_KEYS and MONGODB_URL: secret.existingSecret, or the one this chart creates. */}}
{{- define "ml-service.secretName" -}}
{{- default (include "ml-service.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{- define "ml-service.mongodbName" -}}
{{- printf "%s-mongodb" (include "ml-service.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
