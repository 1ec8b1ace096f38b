"""Comparing probability maps with ground truth, pure: streaming precision-recall and AUPR
as the IDRiD challenge pooled it (``metrics``), evaluation tables and reports
(``evaluation``), false alarms far from any lesion and the thresholds a budget of them allows
(``false_alarms``, ``thresholds``), two readers' agreement (``agreement``) and PNG figures
(``plots``).
Nothing here runs a model.
"""
