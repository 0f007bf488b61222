{#- Silver: the app's item attributes over time (category and price), one row per item and version with
    its validity interval [valid_from, valid_to). RetailRocket publishes them as item properties:
    `categoryid`, and `790`, the price (values like n5520.000). The first known version of an item also
    covers events before it (is_first_version), because the app starts publishing after items go live. -#}

with properties as (

    select * from {{ ref('stg_retailrocket__item_properties') }}
    where quarantine_reason is null and property in ('categoryid', '790')

),

one_value_per_time as (

    -- the same property published twice at the same time: the later delivered value wins
    select
        product_id,
        property,
        property_at,
        property_value,
        row_number() over (
            partition by product_id, property, property_at
            order by ingested_at desc, source_file_name desc, property_value desc
        ) as rank_at_time
    from properties

),

changes as (

    select
        product_id,
        property_at,
        max(case when property = 'categoryid' then try_cast(trim(property_value) as bigint) end)
            as category_id,
        max(
            case
                when property = '790'
                    then try_cast(regexp_extract(trim(property_value), '^n([0-9]+[.]?[0-9]*)$', 1) as decimal(12, 2))
            end
        ) as price,
        max(case when property = 'categoryid' then 1 else 0 end) = 1 as has_category,
        max(case when property = '790' then 1 else 0 end) = 1 as has_price
    from one_value_per_time
    where rank_at_time = 1
    group by product_id, property_at

),

carried_forward as (

    -- each version carries the latest category and price published up to its time
    select
        product_id,
        property_at as valid_from,
        last(case when has_category then category_id end, true) over (
            partition by product_id order by property_at rows between unbounded preceding and current row
        ) as category_id,
        last(case when has_price then price end, true) over (
            partition by product_id order by property_at rows between unbounded preceding and current row
        ) as price,
        lead(property_at) over (partition by product_id order by property_at) as valid_to,
        row_number() over (partition by product_id order by property_at) = 1 as is_first_version
    from changes

),

final as (

    select
        product_id,
        valid_from,
        valid_to,
        is_first_version,
        category_id,
        price
    from carried_forward

)

select * from final
