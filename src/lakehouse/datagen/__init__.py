"""Sample data: clickstream and catalog files in the public REES46 and RetailRocket layouts, with their defects."""
