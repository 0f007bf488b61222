{#- Bronze: every line of the RetailRocket category tree file (category_tree*.csv), as delivered. -#}
{{ bronze_from_landing('retailrocket', 'category_tree*.csv*') }}
