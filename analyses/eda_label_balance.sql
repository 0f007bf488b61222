{#- EDA: the ML label per labelled snapshot: candidate pairs and the share that converted. -#}

with features as (

    select * from {{ ref('ml_user_item_features') }}
    where is_label_complete

),

final as (

    select
        as_of_date,
        count(*) as pairs,
        avg(case when converted then 1.0 else 0.0 end) as positive_rate
    from features
    group by as_of_date

)

select * from final
