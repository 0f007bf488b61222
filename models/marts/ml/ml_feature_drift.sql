{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['as_of_date', 'feature_name'],
        on_schema_change='fail',
    )
}}
{#- Population stability (PSI) of key features: for each scored snapshot, each feature's PSI against the
    training profile of the version that scored it (deciles of the training values, nulls a bucket of their
    own, empty buckets 0.0001), on both sides the shares of the pairs the drawn rows stand for.
    Incremental: the snapshots scored since the last run, merged on (as_of_date, feature_name) (see the
    yml). -#}

with features as (

    select * from {{ ref('ml_user_item_feature_snapshots') }}

),

profile as (

    select * from {{ ref('ml_feature_training_profile') }}

),

scorings as (

    -- one row per scored snapshot: its version and when it was scored (one scoring writes a snapshot whole)
    select
        as_of_date,
        model_version,
        max(scored_at) as scored_at
    from {{ ref('ml_conversion_predictions') }}
    group by as_of_date, model_version

),

scored_snapshots as (

    select *
    from scorings
    where {{ delivered_since_last_run('scored_at') }}

),

edges as (

    -- one row per (model_version, feature_name): every bucket row of a feature carries the same edges
    select
        model_version,
        feature_name,
        decile_edges
    from profile
    where bucket = -1

),

long_values as (

    -- each value with the candidate pairs its row stands for (a drawn snapshot keeps its converters at a
    -- higher share than its other users)
    select
        1 / coalesce(features.draw_share, 1) as pairs,
        {{ drift_feature_values('features') }}
    from features
    where features.as_of_date in (select scored_snapshots.as_of_date from scored_snapshots)

),

scored_bucketed as (

    select
        scored_snapshots.as_of_date,
        scored_snapshots.model_version,
        long_values.feature_name,
        long_values.pairs,
        {{ decile_bucket('long_values.feature_value', 'edges.decile_edges') }} as bucket
    from long_values
    -- many-to-one: scored_snapshots is distinct on (as_of_date, model_version) and one version scores a date
    inner join scored_snapshots
        on long_values.as_of_date = scored_snapshots.as_of_date
    -- many-to-one: edges has one row per (model_version, feature_name)
    inner join edges
        on
            scored_snapshots.model_version = edges.model_version
            and long_values.feature_name = edges.feature_name

),

scored_shares as (

    select
        as_of_date,
        model_version,
        feature_name,
        bucket,
        sum(pairs) / sum(sum(pairs)) over (partition by as_of_date, model_version, feature_name) as scored_share
    from scored_bucketed
    group by as_of_date, model_version, feature_name, bucket

),

compared as (

    -- every bucket of the version's profile (null bucket -1, deciles 0 to 9) for every snapshot it scored,
    -- so a bucket empty on one side still counts
    select
        scored_snapshots.as_of_date,
        scored_snapshots.model_version,
        scored_snapshots.scored_at,
        profile.feature_name,
        profile.bucket,
        greatest(coalesce(scored_shares.scored_share, 0), 0.0001) as scored_share,
        greatest(profile.training_share, 0.0001) as training_share
    from scored_snapshots
    -- one row per bucket of each feature of the version's profile
    inner join profile
        on scored_snapshots.model_version = profile.model_version
    -- at most one share per bucket
    left join scored_shares
        on
            scored_snapshots.as_of_date = scored_shares.as_of_date
            and scored_snapshots.model_version = scored_shares.model_version
            and profile.feature_name = scored_shares.feature_name
            and profile.bucket = scored_shares.bucket

),

psi_per_feature as (

    select
        as_of_date,
        model_version,
        feature_name,
        scored_at,
        sum((scored_share - training_share) * ln(scored_share / training_share)) as psi
    from compared
    group by as_of_date, model_version, feature_name, scored_at

),

final as (

    select
        as_of_date,
        model_version,
        feature_name,
        psi,
        case
            when psi < 0.1 then 'stable'
            when psi < 0.25 then 'watch'
            else 'shifted'
        end as psi_status,
        scored_at
    from psi_per_feature

)

select * from final
