{{ config(severity='error', store_failures=true) }}
{#- Nothing lost: per source and batch, bronze rows = silver rows + quarantined rows + removed duplicates.
    Returns the (source, batch) pairs that do not reconcile. -#}

with bronze_lines as (

    select
        'rees46' as source_system,
        batch_id
    from {{ ref('brz_rees46__events') }}

    union all

    select
        'retailrocket' as source_system,
        batch_id
    from {{ ref('brz_retailrocket__events') }}

),

bronze as (

    select
        source_system,
        batch_id,
        count(*) as bronze_rows
    from bronze_lines
    group by source_system, batch_id

),

silver as (

    select
        source_system,
        batch_id,
        count(*) as silver_rows
    from {{ ref('int_events_validated') }}
    group by source_system, batch_id

),

duplicates as (

    select
        source_system,
        batch_id,
        count(*) as duplicates_removed
    from {{ ref('int_events_duplicates') }}
    group by source_system, batch_id

),

quarantine as (

    select
        source_system,
        batch_id,
        count(*) as quarantined_rows
    from {{ ref('int_events_quarantined') }}
    group by source_system, batch_id

),

reconciled as (

    select
        bronze.source_system,
        bronze.batch_id,
        bronze.bronze_rows,
        coalesce(silver.silver_rows, 0) as silver_rows,
        coalesce(quarantine.quarantined_rows, 0) as quarantined_rows,
        coalesce(duplicates.duplicates_removed, 0) as duplicates_removed
    from bronze
    left join silver
        on
            bronze.source_system = silver.source_system
            and bronze.batch_id = silver.batch_id
    left join quarantine
        on
            bronze.source_system = quarantine.source_system
            and bronze.batch_id = quarantine.batch_id
    left join duplicates
        on
            bronze.source_system = duplicates.source_system
            and bronze.batch_id = duplicates.batch_id

)

select *
from reconciled
where bronze_rows != silver_rows + quarantined_rows + duplicates_removed
