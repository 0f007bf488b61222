{#- Bronze: every line of every RetailRocket-layout event file (app) in landing/retailrocket, as delivered. -#}
{{ bronze_from_landing('retailrocket', 'events*.csv*') }}
