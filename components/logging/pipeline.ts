// The log pipeline's configuration: Filebeat (container logs with Kubernetes metadata) ships to
// Logstash, which parses FinBot's JSON (ECS) lines and writes to Elasticsearch data streams. Pure.
import { BEATS_PORT } from "./labels";

/** Fields a log line must never carry to Elasticsearch, whatever a service logs. */
export const DENIED_FIELDS = ["password", "authorization", "cookie", "card_number", "cvv", "iban", "token", "secret"];

/** Where Logstash finds the beats input's certificate and key (PKCS#8, from cert-manager). */
export const BEATS_TLS_PATH = "/usr/share/logstash/config/beats-tls";

/** The Logstash pipeline: Beats in over TLS; JSON parsed, other lines kept as messages; data stream out. */
export function logstashPipeline(args: { clusterEnvPrefix: string; environment: string }): string {
    const es = (name: string) => `\${${args.clusterEnvPrefix}_ES_${name}}`;
    return `input {
  beats {
    port => ${BEATS_PORT}
    ssl_enabled => true
    ssl_certificate => "${BEATS_TLS_PATH}/tls.crt"
    ssl_key => "${BEATS_TLS_PATH}/tls.key"
  }
}

filter {
  # FinBot services log one JSON object per line (ECS field names). Anything else (a panic, a
  # library printing plain text) stays a plain message and is tagged, never dropped.
  if [message] =~ /^\\s*\\{/ {
    json {
      source => "message"
      target => "[@metadata][log]"
      skip_on_invalid_json => true
      tag_on_failure => ["finbot_json_failure"]
    }
  }
  if [@metadata][log] {
    ruby {
      # Lift the parsed fields to the top level (ECS names such as "log.level" become nested fields).
      code => '
        parsed = event.get("[@metadata][log]")
        parsed.each do |key, value|
          next if key == "@timestamp"
          path = key.split(".").map { |part| "[" + part + "]" }.join
          event.set(path, value)
        end
      '
    }
    date {
      match => ["[@metadata][log][@timestamp]", "ISO8601"]
      target => "@timestamp"
      tag_on_failure => ["finbot_timestamp_failure"]
    }
    mutate {
      remove_field => [${DENIED_FIELDS.map((f) => `"${f}", "[user][${f}]"`).join(", ")}]
    }
  } else {
    mutate {
      add_tag => ["finbot_plain_text"]
    }
  }
  mutate {
    add_field => { "[deployment][environment]" => "${args.environment}" }
  }
}

output {
  elasticsearch {
    hosts => [ "${es("HOSTS")}" ]
    user => "${es("USER")}"
    password => "${es("PASSWORD")}"
    ssl_certificate_authorities => "${es("SSL_CERTIFICATE_AUTHORITY")}"
    data_stream => "true"
    data_stream_type => "logs"
    data_stream_dataset => "finbot"
    data_stream_namespace => "${args.environment}"
  }
}
`;
}

/** Filebeat: every container's log via Kubernetes autodiscover, with pod metadata, to Logstash over TLS verified against `caFile`. */
export function filebeatConfig(logstashHost: string, caFile: string): Record<string, unknown> {
    return {
        filebeat: {
            autodiscover: {
                providers: [
                    {
                        type: "kubernetes",
                        node: "${NODE_NAME}",
                        hints: {
                            enabled: true,
                            default_config: {
                                type: "filestream",
                                id: "kubernetes-container-logs-${data.kubernetes.pod.name}-${data.kubernetes.container.id}",
                                paths: ["/var/log/containers/*${data.kubernetes.container.id}.log"],
                                parsers: [{ container: {} }],
                                prospector: { scanner: { "fingerprint.enabled": true, symlinks: true } },
                                "file_identity.fingerprint": {},
                            },
                        },
                    },
                ],
            },
        },
        processors: [{ add_cloud_metadata: {} }, { add_host_metadata: {} }],
        output: {
            logstash: { hosts: [logstashHost], ssl: { enabled: true, certificate_authorities: [caFile], verification_mode: "full" } },
        },
    };
}
