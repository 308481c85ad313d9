/**
 * Catches what a page throws while rendering, and a page chunk that failed to download (e.g. the
 * controller was upgraded and old hashed files are gone), so the frame stays and the user can
 * retry instead of facing a blank screen. Moving to another page clears it.
 */
import { Component, type ReactNode } from 'react';
import { ApiErrorState } from '../components/ApiErrorState';

interface Props {
  resetKey: string;
  children: ReactNode;
}

export class PageErrorBoundary extends Component<Props, { error: Error | null; key: string }> {
  override state = { error: null as Error | null, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  static getDerivedStateFromProps(props: Props, state: { error: Error | null; key: string }) {
    return props.resetKey === state.key ? null : { error: null, key: props.resetKey };
  }

  override render() {
    if (this.state.error) return <ApiErrorState error={this.state.error} onRetry={() => window.location.reload()} />;
    return this.props.children;
  }
}
