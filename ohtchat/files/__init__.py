"""File transfer: offers, safe names, verified resumable receiving, serving ranges, quotas."""
