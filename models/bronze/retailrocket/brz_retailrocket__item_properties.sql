{#- Bronze: every line of the RetailRocket item property files (item_properties*.csv), as delivered. -#}
{{ bronze_from_landing('retailrocket', 'item_properties*.csv*') }}
