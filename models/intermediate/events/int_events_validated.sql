{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='event_id',
        on_schema_change='append_new_columns',
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        tblproperties=large_table_properties(
            ['event_date', 'event_at', 'ingested_at', 'updated_at'], local_only(['event_date'])
        ),
    )
}}
{#- Delta's file statistics only on what runs filter on (the day, the run stamps, the event time), not on the
    first 32 columns -#}

{%- set columns = [
    'event_id',
    'source_system',
    'event_at',
    'event_date',
    'event_type',
    'user_id',
    'product_id',
    'source_user_id',
    'source_product_id',
    'category_id',
    'category_code',
    'category_level_1',
    'category_level_2',
    'category_level_3',
    'brand',
    'price',
    'is_price_missing',
    'user_session_id',
    'is_session_derived',
    'transaction_id',
    'extra_columns',
    'source_file_name',
    'batch_id',
    'ingested_at',
] -%}

{#- Silver: the valid, deduplicated, enriched events of every source (int_events_enriched) with sessions
    derived where none was delivered: a new session after `session_inactivity_minutes` without an event.
    Incremental: merges the batches delivered since the last run and re-derives the sessions of the users
    they touch, rewriting their earlier events whose session changed (see the yml). -#}

with new_events as (

    -- the batches delivered since the last run, enriched
    select
        *,
        cast(null as string) as session_before
    from {{ ref('int_events_enriched') }}
    where {{ delivered_since_last_run() }}

),

to_sessionise as (

    select
        {% for column in columns if column != 'user_session_id' -%}
            {{ column }},
        {% endfor -%}
        user_session_id,
        session_before
    from new_events
    where is_session_derived
    {%- if is_incremental() %}

        union all

        -- the earlier sessionless events of the users this batch touches
        select
            {% for column in columns if column != 'user_session_id' -%}
                this_run.{{ column }},
            {% endfor -%}
            cast(null as string) as user_session_id,
            this_run.user_session_id as session_before
        from {{ this }} as this_run
        where
            is_session_derived
            and exists (
                select 1 from new_events
                where
                    new_events.is_session_derived
                    and new_events.source_system = this_run.source_system
                    and new_events.user_id = this_run.user_id
            )
    {%- endif %}

),

session_starts as (

    select
        *,
        coalesce(
            event_at > lag(event_at) over (partition by source_system, user_id order by event_at)
            + make_interval(0, 0, 0, 0, 0, {{ var('session_inactivity_minutes') | int }}, 0),
            true
        ) as starts_session
    from to_sessionise

),

sessionised as (

    select
        * except (user_session_id, starts_session),
        concat_ws(
            '-',
            'derived',
            user_id,
            cast(unix_timestamp(max(case when starts_session then event_at end) over (
                partition by source_system, user_id
                order by event_at
                rows between unbounded preceding and current row
            )) as string)
        ) as user_session_id
    from session_starts

),

written as (

    select {{ columns | join(', ') }} from new_events
    where not is_session_derived

    union all

    -- new events, and earlier ones whose session changed
    select {{ columns | join(', ') }} from sessionised
    where session_before is null or session_before != user_session_id

),

final as (

    select
        *,
        current_timestamp() as updated_at
    from written

)

select * from final
