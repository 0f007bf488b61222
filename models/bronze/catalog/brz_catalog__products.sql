{#- Bronze: every line of the web shop's product catalog feed (JSON lines) in landing/catalog, as delivered. -#}
{{ bronze_from_landing('catalog', '*.jsonl*') }}
