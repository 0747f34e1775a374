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

{{/*
The API pod template, shared by the Deployment and (rollout.enabled) the Argo Rollouts Rollout: one definition,
so a canary runs exactly the pods the Deployment would.
*/}}
{{- define "ml-service.podTemplate" -}}
metadata:
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "ml-service.labels" . | nindent 4 }}
    app.kubernetes.io/component: api
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  serviceAccountName: {{ include "ml-service.serviceAccountName" . }}
  automountServiceAccountToken: false
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  # The server finishes in-flight requests on SIGTERM and exits within 10 s.
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: api
      image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy | quote }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ .Values.containerPort }}
          protocol: TCP
      env:
        - name: HOST
          value: "0.0.0.0"
        - name: PORT
          value: {{ .Values.containerPort | quote }}
        - name: FEATURES_PATH
          value: /etc/ml-service/features.yaml
        - name: CONFIG_PATH
          value: /etc/ml-service/config.yaml
        {{- with .Values.predictionLog.sinks }}
        - name: PREDICTION_LOG_SINKS
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.predictionLog.fluentd.host }}
        - name: FLUENTD_HOST
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.predictionLog.fluentd.port }}
        - name: FLUENTD_PORT
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.predictionLog.fluentd.tag }}
        - name: FLUENTD_TAG
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.predictionLog.mongodb.db }}
        - name: MONGODB_DB
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.predictionLog.mongodb.collection }}
        - name: MONGODB_COLLECTION
          value: {{ . | quote }}
        {{- end }}
        - name: API_KEYS
          valueFrom:
            secretKeyRef:
              name: {{ include "ml-service.secretName" . }}
              key: API_KEYS
              # Required whenever a Secret is expected (the chart's own always holds a key): no pod starts without one.
              optional: {{ not (or .Values.secret.create .Values.secret.existingSecret) }}
        - name: MONGODB_URL
          valueFrom:
            secretKeyRef:
              name: {{ include "ml-service.secretName" . }}
              key: MONGODB_URL
              optional: true
        {{- with .Values.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # Liveness: the process answers. Readiness: the model is loaded and warmed up.
      livenessProbe:
        httpGet:
          path: /health
          port: http
        {{- toYaml .Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /ready
          port: http
        {{- toYaml .Values.probes.readiness | nindent 8 }}
      {{- if .Values.preStopSleepSeconds }}
      # Endpoints are removed while the pod still serves: requests routed to it just before SIGTERM are answered.
      lifecycle:
        preStop:
          exec:
            command: ["sleep", {{ .Values.preStopSleepSeconds | quote }}]
      {{- end }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: spec
          mountPath: /etc/ml-service
          readOnly: true
        # The root file system is read-only: scratch space, and the file sink's logs/ folder.
        - name: tmp
          mountPath: /tmp
        - name: logs
          mountPath: /app/logs
  volumes:
    - name: spec
      configMap:
        name: {{ include "ml-service.fullname" . }}
    - name: tmp
      emptyDir: {}
    - name: logs
      emptyDir: {}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
