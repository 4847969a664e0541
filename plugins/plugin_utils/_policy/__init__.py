# Tier policy (controller only): the registry, tier selection, speed prediction, the provisioning plan, the fleet report.
