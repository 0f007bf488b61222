{#- Gold report: RFM segments of every buyer, per source. Recency is counted in days from the day after the
    source's last order (the "as of" of the report: sources can be years apart); each of R, F and M is
    scored 1-5 by quintile within the source (5 = most recent / most frequent / highest spend; ties broken
    by user id so scores are reproducible). Monetary is the known value of the buyer's orders; a buyer
    with no order of known value has no M score (null), and the segment rests on R and F. -#}

with users as (

    select * from {{ ref('dim_users') }}
    where is_buyer

),

as_of as (

    select
        source_system,
        date_add(max(cast(last_ordered_at as date)), 1) as as_of_date
    from users
    group by source_system

),

measured as (

    select
        users.user_id,
        users.source_system,
        as_of.as_of_date,
        datediff(as_of.as_of_date, cast(users.last_ordered_at as date)) as recency_days,
        users.orders_count as frequency,
        users.lifetime_revenue as monetary
    from users
    -- many-to-one: one row per source
    inner join as_of
        on users.source_system = as_of.source_system

),

scored as (

    select
        *,
        ntile(5) over (partition by source_system order by recency_days desc, user_id asc) as recency_score,
        ntile(5) over (partition by source_system order by frequency asc, user_id asc) as frequency_score,
        case
            when monetary is not null
                then ntile(5) over (
                        partition by source_system, monetary is null order by monetary asc, user_id asc
                    )
        end as monetary_score
    from measured

),

final as (

    select
        user_id,
        source_system,
        as_of_date,
        recency_days,
        frequency,
        monetary,
        recency_score,
        frequency_score,
        monetary_score,
        concat(recency_score, frequency_score, coalesce(cast(monetary_score as string), '-')) as rfm_code,
        case
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when recency_score >= 3 and frequency_score >= 3 then 'loyal'
            when recency_score >= 4 then 'new_or_promising'
            when recency_score <= 2 and frequency_score >= 3 then 'at_risk'
            when recency_score <= 2 then 'hibernating'
            else 'needs_attention'
        end as rfm_segment
    from scored

)

select * from final
