{#- Gold report: weekly cohort retention per source. A user's cohort is the week (Monday) of their first
    event; for each later week, how many of the cohort were active and what share of the cohort that is. -#}

with events as (

    select * from {{ ref('fct_events') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

weekly_activity as (

    select distinct
        user_id,
        cast(date_trunc('week', event_date) as date) as activity_week
    from events

),

cohort_sizes as (

    select
        source_system,
        cohort_week,
        count(*) as cohort_users
    from users
    group by source_system, cohort_week

),

final as (

    select
        users.source_system,
        users.cohort_week,
        cast(datediff(weekly_activity.activity_week, users.cohort_week) / 7 as int) as weeks_since_first,
        weekly_activity.activity_week,
        max(cohort_sizes.cohort_users) as cohort_users,
        count(*) as active_users,
        cast(count(*) / max(cohort_sizes.cohort_users) as double) as retention_rate
    from weekly_activity
    -- many-to-one: one row per user in dim_users and per source and cohort in cohort_sizes
    inner join users
        on weekly_activity.user_id = users.user_id
    inner join cohort_sizes
        on
            users.source_system = cohort_sizes.source_system
            and users.cohort_week = cohort_sizes.cohort_week
    group by users.source_system, users.cohort_week, weekly_activity.activity_week

)

select * from final
