{#- Bronze: every line of every REES46-layout event file (web shop) in landing/rees46, as delivered. -#}
{{ bronze_from_landing('rees46', '*.csv*') }}
