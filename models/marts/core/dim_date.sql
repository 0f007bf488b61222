{#- Gold: one row per calendar day from the first to the last event day (weeks start on Monday). -#}

with events as (

    select * from {{ ref('fct_events') }}

),

spine as (

    select explode(sequence(min(event_date), max(event_date), interval 1 day)) as date_day
    from events

),

final as (

    select
        date_day,
        year(date_day) as year_number,
        quarter(date_day) as quarter_number,
        month(date_day) as month_number,
        date_format(date_day, 'MMMM') as month_name,
        cast(date_trunc('week', date_day) as date) as week_start_date,
        weekofyear(date_day) as iso_week_number,
        -- 1 = Monday ... 7 = Sunday
        weekday(date_day) + 1 as day_of_week,
        date_format(date_day, 'EEEE') as day_name,
        weekday(date_day) >= 5 as is_weekend
    from spine

)

select * from final
