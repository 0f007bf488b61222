{#-
    The validation of an event row, one definition for every event source (int_events_checked): the first
    rule the row breaks, in the order of the `quarantine_reasons` seed (feed `events`), or null for a valid
    row. A row is set aside only when it cannot be an event (no readable line, no time, an unknown type, no
    user, no product); a missing or impossible price does not set it aside (the price is unknown).
    `row` is the relation alias holding the staged flags and typed values, `known_type` an expression true
    when the event type is in the `event_types` seed.
-#}
{% macro event_quarantine_reason(row, known_type) -%}
    case
        when {{ row }}.missing_columns is not null then 'missing_required_column'
        when {{ row }}.is_undecodable then 'invalid_encoding'
        when {{ row }}.is_malformed then 'malformed_line'
        when {{ row }}.has_long_field then 'field_too_long'
        when {{ row }}.event_at is null then 'invalid_event_time'
        when {{ row }}.event_at > {{ row }}.ingested_at then 'future_event_time'
        when {{ row }}.event_at < {{ source_opened_at(row ~ '.source_system') }} then 'before_shop_opened'
        when not coalesce({{ known_type }}, false) then 'unknown_event_type'
        when {{ row }}.user_id is null then 'missing_user_id'
        when {{ row }}.product_id is null then 'missing_product_id'
    end
{%- endmacro %}


{#- When a source opened (vars `shop_opened_at`, the web shop, and `app_opened_at`, the app): an event
    dated before it is a clock error, not an event. -#}
{% macro source_opened_at(source_system) -%}
    case {{ source_system }}
        when 'rees46' then timestamp '{{ var("shop_opened_at") }}'
        when 'retailrocket' then timestamp '{{ var("app_opened_at") }}'
    end
{%- endmacro %}


{#- A delivered price as a known price: a positive number, else null (missing, zero, negative or not a
    number: the price is unknown, the event is kept). -#}
{% macro known_price(raw_price) -%}
    case
        when try_cast(trim({{ raw_price }}) as decimal(12, 2)) > 0 then try_cast(trim({{ raw_price }}) as decimal(12, 2))
    end
{%- endmacro %}


{#- The revenue of a group of events: the sum of its purchases' known prices; null when it has purchases
    and none of known price (unknown, not zero); 0 when it has none. Purchases of unknown price are
    counted apart by the marts (`purchases_unknown_price`). -#}
{% macro known_revenue(event_type='event_type', price='price') -%}
    cast(
        case
            when max(case when {{ event_type }} = 'purchase' then 1 else 0 end) = 1
                then sum(case when {{ event_type }} = 'purchase' then {{ price }} end)
            else 0
        end as decimal(18, 2)
    )
{%- endmacro %}
