{%- set horizon = var('label_horizon_days') | int -%}
{#- Model monitoring once labels arrive: per scored snapshot whose label window has closed, the realised
    conversion rate and revenue per score decile next to the mean predicted probability. Reads predictions
    and the labels table (a scored pair without a label row did not convert), not the features (see the yml). -#}

with predictions as (

    select * from {{ ref('ml_conversion_predictions') }}

),

scored_range as (

    select min(as_of_date) as first_scored_snapshot
    from predictions

),

labelled_range as (

    -- the newest snapshot of any source whose label window [as_of_date, as_of_date + {{ horizon }}) has
    -- closed: a bound on the labels read (each prediction is checked against its own source below)
    select {{ newest_label_complete_snapshot() }} as last_labelled_snapshot

),

labels as (

    select
        as_of_date,
        user_id,
        product_id
    from {{ ref('ml_user_item_labels') }}
    where
        as_of_date >= (select scored_range.first_scored_snapshot from scored_range)
        and as_of_date <= (select labelled_range.last_labelled_snapshot from labelled_range)

),

purchases as (

    -- the purchases that can fall in a read label window; price null when unknown
    select
        event_date,
        user_id,
        product_id,
        price
    from {{ ref('fct_events') }}
    where
        event_type = 'purchase'
        and event_date >= (select scored_range.first_scored_snapshot from scored_range)

),

label_revenue as (

    -- fan-out by design: a labelled pair meets each of its purchases in its label window; the group by
    -- restores the pair grain. Unknown when any of the pair's purchases has an unknown price.
    select
        labels.as_of_date,
        labels.user_id,
        labels.product_id,
        case when count(purchases.price) = count(*) then sum(purchases.price) end as revenue
    from labels
    inner join purchases
        on
            labels.user_id = purchases.user_id
            and labels.product_id = purchases.product_id
            and labels.as_of_date <= purchases.event_date
            and date_add(labels.as_of_date, {{ horizon }}) > purchases.event_date
    group by labels.as_of_date, labels.user_id, labels.product_id

),

labelled_predictions as (

    select
        as_of_date,
        user_id,
        product_id,
        model_name,
        model_version,
        probability_decile,
        probability,
        -- the candidate pairs a scored pair stands for (null: scored before draws existed, every pair then)
        1 / coalesce(draw_share, 1) as pairs_represented
    from predictions
    -- its source's label window has closed (the macro also defines ml_user_item_features' is_label_complete)
    where as_of_date <= {{ last_label_complete_snapshot('predictions.source_system') }}

),

labelled as (

    select
        labelled_predictions.as_of_date,
        labelled_predictions.model_name,
        labelled_predictions.model_version,
        labelled_predictions.probability_decile,
        labelled_predictions.probability,
        labelled_predictions.pairs_represented,
        labels.as_of_date is not null as converted,
        label_revenue.revenue
    from labelled_predictions
    -- many-to-one: both are unique on (as_of_date, user_id, product_id) (tested)
    left join labels
        on
            labelled_predictions.as_of_date = labels.as_of_date
            and labelled_predictions.user_id = labels.user_id
            and labelled_predictions.product_id = labels.product_id
    -- many-to-one: one row per labelled pair
    left join label_revenue
        on
            labelled_predictions.as_of_date = label_revenue.as_of_date
            and labelled_predictions.user_id = label_revenue.user_id
            and labelled_predictions.product_id = label_revenue.product_id

),

final as (

    select
        as_of_date,
        model_name,
        model_version,
        probability_decile,
        count(*) as pairs,
        cast(sum(pairs_represented) as bigint) as pairs_represented,
        sum(case when converted then 1 else 0 end) as conversions,
        -- the rates of the pairs the scored ones stand for: a drawn snapshot keeps its converters at a
        -- higher share than its other users
        sum(pairs_represented * probability) / sum(pairs_represented) as mean_predicted_probability,
        sum(case when converted then pairs_represented else 0 end) / sum(pairs_represented)
            as realised_conversion_rate,
        -- revenue of the conversions of known value; those of unknown value are counted apart
        cast(sum(revenue) as decimal(18, 2)) as realised_revenue,
        sum(case when converted and revenue is null then 1 else 0 end) as conversions_unknown_revenue
    from labelled
    group by as_of_date, model_name, model_version, probability_decile

)

select * from final
