{{/*
foresight.name is the chart name, or nameOverride; used in the app.kubernetes.io/name label.
*/}}
{{- define "foresight.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
foresight.fullname is the prefix of every resource name: fullnameOverride, else the release name
when it already contains the chart name, else "<release>-<chart>". Truncated to 63 characters,
the limit of a DNS label (Service names become DNS names).
*/}}
{{- define "foresight.fullname" -}}
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

{{/*
foresight.namespace is where the namespaced resources go: namespaceOverride, else the release namespace.
*/}}
{{- define "foresight.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
foresight.chart is "<chart>-<version>" for the helm.sh/chart label.
*/}}
{{- define "foresight.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
foresight.selectorLabels select the pods. They never change between chart versions (selectors are
immutable), so they hold neither the chart version nor helm.sh/chart.
*/}}
{{- define "foresight.selectorLabels" -}}
app.kubernetes.io/name: {{ include "foresight.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
foresight.labels are the standard labels of every resource.
*/}}
{{- define "foresight.labels" -}}
helm.sh/chart: {{ include "foresight.chart" . }}
{{ include "foresight.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/component: autoscaler
app.kubernetes.io/part-of: foresight
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
foresight.serviceAccountName is the ServiceAccount the pods run as.
*/}}
{{- define "foresight.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "foresight.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
foresight.image is the image reference: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "foresight.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
foresight.serviceHost is the DNS name the API server's aggregator uses: <service>.<namespace>.svc.
The serving certificate must carry it.
*/}}
{{- define "foresight.serviceHost" -}}
{{- printf "%s.%s.svc" (include "foresight.fullname" .) (include "foresight.namespace" .) }}
{{- end }}

{{/*
foresight.tlsSecretName is the Secret holding the serving certificate of the external-metrics API.
*/}}
{{- define "foresight.tlsSecretName" -}}
{{- if eq .Values.tls.type "existingSecret" }}
{{- required "tls.existingSecret is required when tls.type is existingSecret: the name of a kubernetes.io/tls Secret in the release namespace" .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-serving-cert" (include "foresight.fullname" .) }}
{{- end }}
{{- end }}

{{/*
foresight.generatedTls is the CA and serving certificate for tls.type "helm", as JSON:
{"ca": PEM, "cert": PEM, "key": PEM}. An existing Secret from an earlier release is reused, so an
upgrade does not change the CA the APIService trusts. The value is cached in the root context:
the Secret and the APIService are rendered from one generation, not two.
*/}}
{{- define "foresight.generatedTls" -}}
{{- $cached := index . "foresightGeneratedTls" }}
{{- if not $cached }}
{{- $secret := lookup "v1" "Secret" (include "foresight.namespace" .) (include "foresight.tlsSecretName" .) }}
{{- $data := dict }}
{{- if $secret }}
{{- $data = $secret.data | default dict }}
{{- end }}
{{- if and (index $data "ca.crt") (index $data "tls.crt") (index $data "tls.key") }}
{{- $cached = dict "ca" (index $data "ca.crt" | b64dec) "cert" (index $data "tls.crt" | b64dec) "key" (index $data "tls.key" | b64dec) }}
{{- else }}
{{- $fullname := include "foresight.fullname" . }}
{{- $namespace := include "foresight.namespace" . }}
{{- $host := include "foresight.serviceHost" . }}
{{- $days := int .Values.tls.helm.validityDays }}
{{- $ca := genCA (printf "%s-ca" $fullname) $days }}
{{- $cert := genSignedCert $host nil (list $fullname (printf "%s.%s" $fullname $namespace) $host (printf "%s.cluster.local" $host)) $days $ca }}
{{- $cached = dict "ca" $ca.Cert "cert" $cert.Cert "key" $cert.Key }}
{{- end }}
{{- $_ := set . "foresightGeneratedTls" $cached }}
{{- end }}
{{- toJson $cached }}
{{- end }}

{{/*
foresight.kedaGrpcTls is "true" when the KEDA gRPC port serves TLS: keda.grpc.tls.enabled with the
port itself enabled. A client CA without TLS fails the render: mutual TLS runs over TLS.
*/}}
{{- define "foresight.kedaGrpcTls" -}}
{{- $tls := .Values.keda.grpc.tls }}
{{- if and $tls.clientCASecret (not $tls.enabled) }}
{{- fail "keda.grpc.tls.clientCASecret needs keda.grpc.tls.enabled: true (client certificates are only asked for over TLS)" }}
{{- end }}
{{- if and .Values.keda.grpc.enabled $tls.enabled }}true{{ end }}
{{- end }}

{{/*
foresight.kedaGrpcCertDir is the folder of the KEDA gRPC serving certificate: its own Secret's
mount, or the external-metrics serving certificate's when keda.grpc.tls.existingSecret is empty.
*/}}
{{- define "foresight.kedaGrpcCertDir" -}}
{{- if .Values.keda.grpc.tls.existingSecret }}/var/run/keda-grpc-tls{{ else }}/var/run/serving-cert{{ end }}
{{- end }}

{{/*
foresight.httpTls is "true" when the HTTP port serves HTTPS (httpTls.enabled). A client CA without
TLS, or allowed names without a client CA, fails the render with the reason.
*/}}
{{- define "foresight.httpTls" -}}
{{- $tls := .Values.httpTls }}
{{- if and $tls.clientCASecret (not $tls.enabled) }}
{{- fail "httpTls.clientCASecret needs httpTls.enabled: true (client certificates are only asked for over TLS)" }}
{{- end }}
{{- if and $tls.allowedNames (not $tls.clientCASecret) }}
{{- fail "httpTls.allowedNames needs httpTls.clientCASecret (the names are those of client certificates it signed)" }}
{{- end }}
{{- if $tls.enabled }}true{{ end }}
{{- end }}

{{/*
foresight.httpCertDir is the folder of the HTTP port's serving certificate: its own Secret's mount,
or the external-metrics serving certificate's when httpTls.existingSecret is empty.
*/}}
{{- define "foresight.httpCertDir" -}}
{{- if .Values.httpTls.existingSecret }}/var/run/http-tls{{ else }}/var/run/serving-cert{{ end }}
{{- end }}

{{/*
foresight.config is the Foresight configuration file: the config value with the keys the chart
owns (ports, certificate files, KEDA switches, the model folder) set from the chart's values.
*/}}
{{- define "foresight.config" -}}
{{- $grpc := dict "enabled" .Values.keda.grpc.enabled "port" (int .Values.ports.grpc) }}
{{- if include "foresight.kedaGrpcTls" . }}
{{- $dir := include "foresight.kedaGrpcCertDir" . }}
{{- $grpcTls := dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir) }}
{{- if .Values.keda.grpc.tls.clientCASecret }}
{{- $_ := set $grpcTls "clientCAFile" "/var/run/keda-grpc-client-ca/ca.crt" }}
{{- end }}
{{- $_ := set $grpc "tls" $grpcTls }}
{{- end }}
{{- $server := dict "port" (int .Values.ports.http) }}
{{- if .Values.httpAuth.tokenSecret }}
{{- $_ := set $server "auth" (dict "bearerTokenFile" "/var/run/foresight-http-token/token" "scope" .Values.httpAuth.scope) }}
{{- end }}
{{- if include "foresight.httpTls" . }}
{{- $dir := include "foresight.httpCertDir" . }}
{{- $httpTls := dict "certFile" (printf "%s/tls.crt" $dir) "keyFile" (printf "%s/tls.key" $dir) }}
{{- if .Values.httpTls.clientCASecret }}
{{- $_ := set $httpTls "clientCAFile" "/var/run/http-client-ca/ca.crt" }}
{{- $_ := set $httpTls "allowedNames" .Values.httpTls.allowedNames }}
{{- end }}
{{- $_ := set $server "tls" $httpTls }}
{{- end }}
{{- $managed := dict
  "server" $server
  "externalMetrics" (dict
    "port" (int .Values.ports.https)
    "tls" (dict "certFile" "/var/run/serving-cert/tls.crt" "keyFile" "/var/run/serving-cert/tls.key"))
  "keda" (dict
    "metricsApi" (dict "enabled" .Values.keda.metricsApi.enabled)
    "grpc" $grpc)
  "scaling" (dict "modelPath" "/var/lib/foresight/models") }}
{{- if .Values.scalingRules }}
{{- $_ := set $managed "decisions" (dict "rulesFile" "/etc/foresight/scaling.rules.yaml") }}
{{- end }}
{{- if include "foresight.prometheusCA" . }}
{{- $_ := set $managed "source" (dict "prometheus" (dict "tls" (dict "caFile" "/var/run/prometheus-ca/ca.crt"))) }}
{{- end }}
{{- if .Values.sharding.enabled }}
{{- $_ := set $managed "sharding" (dict "replicas" (int .Values.sharding.replicas) "readBack" (dict "labels" .Values.sharding.readBackLabels)) }}
{{- end }}
{{- toYaml (mergeOverwrite (deepCopy (.Values.config | default dict)) $managed) }}
{{- end }}

{{/*
foresight.actuationTargets groups config.actuation.targets by namespace, as JSON:
{"<namespace>": {"scale": [workload names], "configMaps": [ConfigMap names]}}. Empty unless
config.actuation.enabled. The RBAC of actuation is derived from it, so that Foresight may patch
exactly the objects its configuration names (docs/actuation.md "RBAC").
*/}}
{{- define "foresight.actuationTargets" -}}
{{- $byNamespace := dict }}
{{- $actuation := (.Values.config | default dict).actuation | default dict }}
{{- if $actuation.enabled }}
{{- range $resource, $target := ($actuation.targets | default dict) }}
{{- if $target }}
{{- $entry := get $byNamespace $target.namespace | default (dict "scale" list "configMaps" list) }}
{{- if eq $resource "db_connections" }}
{{- $_ := set $entry "configMaps" (append $entry.configMaps $target.name | uniq) }}
{{- else }}
{{- $_ := set $entry "scale" (append $entry.scale $target.name | uniq) }}
{{- end }}
{{- $_ := set $byNamespace $target.namespace $entry }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $byNamespace }}
{{- end }}

{{/*
foresight.prometheusCA is "true" when prometheusCA names a Secret or a ConfigMap.
*/}}
{{- define "foresight.prometheusCA" -}}
{{- if or .Values.prometheusCA.secretName .Values.prometheusCA.configMapName }}true{{ end }}
{{- end }}
