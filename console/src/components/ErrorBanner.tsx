/* ErrorBanner.tsx: an API error as a sentence, announced to screen readers. */
import { explainError } from '../api';
import { useI18n } from '../i18n';

export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <div className="banner error" role="alert">
      <span>{explainError(error, t)}</span>
      {onDismiss && <button type="button" className="link" onClick={onDismiss}>{t('dismiss')}</button>}
    </div>
  );
}
